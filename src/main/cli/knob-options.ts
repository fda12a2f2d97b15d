/**
 * The knob flags of `train` and `slurm submit`, generated from the knob table
 * (src/shared/knobs.ts): one commander option per flag and alias, each typed value parsed
 * and range-checked by the table's own schema, and the parsed options folded back into
 * TrainingKnobs. A new knob needs no change here.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  KNOB_KEYS,
  KNOBS,
  type KnobKey,
  type KnobSpec,
  knobFlagText,
  parseKnobText,
  type TrainingKnobs,
  TrainingKnobsInput,
} from '../../shared/knobs';
import { CliExit } from './output';

/** `max-epochs` → `maxEpochs`, the name commander gives the parsed value. */
function attributeName(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function flagsOf(key: KnobKey): string[] {
  const spec: KnobSpec = KNOBS[key];
  return [spec.flag, ...(spec.aliases ?? [])];
}

function optionFor(key: KnobKey, flag: string, withDefaults: boolean): Option {
  const spec: KnobSpec = KNOBS[key];
  const primary = flag === spec.flag;
  const help = primary ? spec.help : `same as --${spec.flag}`;
  if (spec.kind.type === 'boolean') return new Option(`--${flag}`, help);
  const option = new Option(`--${flag} ${spec.valueName ?? '<value>'}`, help);
  if (spec.kind.type === 'choice') {
    option.choices([...spec.kind.choices]);
    if (withDefaults && spec.cliDefault && primary) option.default(spec.default);
    return option;
  }
  return option.argParser((text: string) => {
    const r = parseKnobText(key, text);
    if (!r.ok) throw new InvalidArgumentError(r.error);
    return r.value;
  });
}

/**
 * Add every knob's flags to a command. `withDefaults` sets the defaults the command records
 * when a flag is absent (`--accelerator auto` for `train`).
 */
export function addKnobOptions(command: Command, options: { withDefaults?: boolean } = {}): Command {
  for (const key of KNOB_KEYS)
    for (const flag of flagsOf(key)) command.addOption(optionFor(key, flag, options.withDefaults ?? false));
  return command;
}

/**
 * The knobs a command's parsed options set. Two spellings of one knob that disagree are an
 * error; the table's schema is the last word on a knob's range (one line, naming the flag).
 */
export function knobsFromOptions(o: object): TrainingKnobs {
  const values = o as Record<string, unknown>;
  const knobs: Record<string, unknown> = {};
  for (const key of KNOB_KEYS) {
    const given = flagsOf(key)
      .map((flag) => [flag, values[attributeName(flag)]] as const)
      .filter(([, v]) => v !== undefined);
    const [first, ...rest] = given;
    const other = rest.find(([, v]) => v !== first?.[1]);
    if (first && other)
      throw new CliExit(
        2,
        `error: --${first[0]} ${String(first[1])} and --${other[0]} ${String(other[1])} disagree (they are the same knob)`,
      );
    if (first) knobs[key] = first[1];
  }
  const parsed = TrainingKnobsInput.safeParse(knobs);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const key = String(issue.path[0] ?? '') as KnobKey;
  const flag = Object.hasOwn(KNOBS, key) ? knobFlagText(key) : key;
  throw new CliExit(2, `error: ${flag} ${String(knobs[key])} is not allowed: ${issue.message}`);
}
