import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { KNOB_KEYS, KNOBS, type KnobSpec } from '../../shared/knobs';
import { addKnobOptions, knobsFromOptions } from './knob-options';
import { CliExit } from './output';

function parse(args: string[], withDefaults = true) {
  const cmd = addKnobOptions(new Command().exitOverride(), { withDefaults });
  cmd.parse(args, { from: 'user' });
  return knobsFromOptions(cmd.opts());
}

describe('the knob flags come from the knob table', () => {
  it('every knob and alias of the table is a flag, with its help text', () => {
    const cmd = addKnobOptions(new Command());
    const flags = cmd.options.map((o) => o.long);
    for (const key of KNOB_KEYS) {
      const spec: KnobSpec = KNOBS[key];
      for (const f of [spec.flag, ...(spec.aliases ?? [])]) expect(flags, key).toContain(`--${f}`);
      expect(cmd.options.find((o) => o.long === `--${spec.flag}`)?.description).toBe(spec.help);
    }
  });

  it('parses each value with the table schema and folds the flags back into knobs', () => {
    expect(parse(['--max-epochs', '3', '--n-groups', '8', '--deterministic', '--learning-rate', '1e-4'])).toEqual({
      max_epochs: 3,
      n_groups: 8,
      deterministic: true,
      learning_rate: 1e-4,
      accelerator: 'auto',
    });
    expect(parse([], false)).toEqual({});
  });

  it('two spellings of one knob that disagree are refused, naming both', () => {
    expect(() => parse(['--n-images', '4', '--n-groups', '8'])).toThrow(CliExit);
    expect(() => parse(['--n-images', '4', '--n-groups', '8'])).toThrow(
      '--n-images 4 and --n-groups 8 disagree (they are the same knob)',
    );
    expect(parse(['--n-images', '8', '--n-groups', '8']).n_groups).toBe(8);
  });
});
