import { describe, expect, it } from 'vitest';
import { TrainingConfig } from './config';
import {
  configFieldsWithoutEffect,
  DEFAULT_MAX_EPOCHS,
  KNOB_KEYS,
  KNOBS,
  knobConfigFields,
  knobFlags,
  parseKnobText,
  TrainingKnobs,
  TrainingKnobsInput,
} from './knobs';

const base = { train_data_file: 'a.npz', output_dir: 'out' };

describe('the knob table', () => {
  it('every knob with a config field names a real TrainingConfig field whose default is the knob default', () => {
    const defaults = TrainingConfig.parse(base) as Record<string, unknown>;
    for (const key of KNOB_KEYS) {
      const spec = KNOBS[key];
      if (spec.config === null) continue;
      expect(Object.keys(defaults), key).toContain(spec.config);
      expect(defaults[spec.config], key).toBe(spec.default);
    }
    expect(defaults.nepochs).toBe(DEFAULT_MAX_EPOCHS);
  });

  it('the bridge sets the config field of each knob given and nothing else', () => {
    expect(knobConfigFields({ max_epochs: 3, n_groups: 8, resume: true, accelerator: 'cpu' })).toEqual({
      nepochs: 3,
      n_groups: 8,
      accelerator: 'cpu',
    });
  });

  it('typed text parses to the value or an error naming the valid range', () => {
    expect(parseKnobText('max_epochs', '12')).toEqual({ ok: true, value: 12 });
    expect(parseKnobText('max_epochs', '0')).toEqual({
      ok: false,
      error: "expected an integer in [1, 100000], got '0'",
    });
    expect(parseKnobText('max_epochs', '')).toMatchObject({ ok: false });
    expect(parseKnobText('max_epochs', 'ten')).toMatchObject({ ok: false });
    expect(parseKnobText('max_epochs', '2.5')).toMatchObject({ ok: false });
    expect(parseKnobText('learning_rate', '0')).toEqual({
      ok: false,
      error: "expected a learning rate in (0, 1], got '0'",
    });
    expect(parseKnobText('learning_rate', '1e-4')).toEqual({ ok: true, value: 1e-4 });
    expect(parseKnobText('accelerator', 'tpu')).toEqual({
      ok: false,
      error: "expected one of auto, cpu, webgpu, cuda, got 'tpu'",
    });
  });

  it('the input schema bounds what a user asks for; the record schema still opens an old manifest', () => {
    expect(TrainingKnobsInput.safeParse({ max_epochs: 200_000 }).success).toBe(false);
    expect(TrainingKnobs.parse({ max_epochs: 200_000 })).toEqual({ max_epochs: 200_000 });
    expect(TrainingKnobs.safeParse({ epochs: 3 }).success).toBe(false);
  });

  it('knobs go back to the train flags that produce them, in table order', () => {
    expect(
      knobFlags({ seed: 7, deterministic: true, max_epochs: 2, n_groups: 64, accelerator: 'auto', resume: false }),
    ).toEqual(['--max-epochs', '2', '--n-images', '64', '--accelerator', 'auto', '--deterministic', '--seed', '7']);
    expect(knobFlags({ accelerator: 'auto' }, { omitCliDefaults: true })).toEqual([]);
  });
});

describe('what a knob changes', () => {
  it('only logging, data-loading threads, checkpointing and the provider leave a trained job up to date', () => {
    expect(configFieldsWithoutEffect().sort()).toEqual([
      'accelerator',
      'disable_checkpointing',
      'logger',
      'num_workers',
    ]);
  });
});
