/**
 * The trainer knobs, declared once. Each row names the knob in every place it appears: its
 * key (the manifest's `knobs` and the API), its `train` flag (the underscore spelling is
 * accepted too, and `aliases` lists other names of the same knob), the workbench label and
 * unit, the default, the schema that bounds what a user may ask for, the help text, and the
 * TrainingConfig field it sets (the config bridge). The CLI options, the workbench's knob
 * fields, the "same run from a terminal" command and the bridge are all generated from
 * this table, so a new knob is a new row plus the code that uses its value.
 */
import { z } from 'zod';
import type { TrainingConfig } from './config';

/** Execution providers a user may ask a job to train or infer on; `auto` picks a working GPU, else CPU. */
export const ACCELERATORS = ['auto', 'cpu', 'webgpu', 'cuda'] as const;
export const Accelerator = z.enum(ACCELERATORS);
export type Accelerator = z.infer<typeof Accelerator>;

export const LOGGERS = ['none', 'jsonl', 'csv'] as const;
export const Logger = z.enum(LOGGERS);
export type Logger = z.infer<typeof Logger>;

/** Upper bounds of the numeric knobs a user may ask for (flags, API); beyond them a run is meaningless. */
export const MAX_EPOCHS = 100_000;
/** Adam steps larger than 1 only diverge. */
export const MAX_LEARNING_RATE = 1;
/** The generators take a 32-bit seed; larger values would silently wrap onto smaller ones. */
export const MAX_SEED = 0xffff_ffff;
export const MAX_NUM_WORKERS = 64;
/** Patience beyond this many epochs without improvement is the same as no early stopping. */
export const MAX_EARLY_STOPPING_PATIENCE = 10_000;
/** Epochs per job when neither the flag, the workbench nor a data preset says otherwise. */
export const DEFAULT_MAX_EPOCHS = 50;
/** Groups per batch when none is asked for. */
export const DEFAULT_BATCH_SIZE = 16;

/** How a value is typed: the CLI parser, the workbench field and the range message follow from it. */
export type KnobKind =
  | { type: 'integer'; min: number; max: number }
  /** A real number in (min, max] (min excluded), e.g. a learning rate; `noun` names it in messages. */
  | { type: 'number'; min: number; max: number; noun: string }
  | { type: 'choice'; choices: readonly string[] }
  | { type: 'boolean' };

export interface KnobSpec<S extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  /** The `train` flag without dashes; `max_epochs` (underscores) is accepted for `max-epochs`. */
  flag: string;
  /** Other flags for the same knob (given together they must agree). */
  aliases?: readonly string[];
  /** Commander's value placeholder, e.g. `<n>`; none for a switch. */
  valueName?: string;
  /** The workbench label (absent: the knob is set from the CLI and the API only). */
  label?: string;
  unit?: string;
  kind: KnobKind;
  /** What an absent knob means, in words for a placeholder or help ("50", "all"). */
  defaultText: string;
  /** The value an absent knob resolves to, when it is one value (the trainer's default). */
  default: z.infer<S> | null;
  /** The CLI sets the default explicitly (so the manifest records it), as `--accelerator auto` does. */
  cliDefault?: boolean;
  /** What a user may ask for (flags, API, workbench). */
  schema: S;
  /** What a manifest may hold: unbounded, so one written before a bound existed still opens. */
  record: R;
  help: string;
  /** The TrainingConfig field the knob sets; none when the knob is not part of the config (`resume`). */
  config: keyof TrainingConfig | null;
  /**
   * False for a knob that cannot change what a job learns (how it logs, data-loading threads,
   * where it runs): changing it never makes a trained job out of date. Default true.
   */
  changesResult?: boolean;
}

function knob<S extends z.ZodType, R extends z.ZodType>(spec: KnobSpec<S, R>): KnobSpec<S, R> {
  return spec;
}

function integerKnob(min: number, max: number) {
  return z.number().int().min(min).max(max).describe(`an integer in [${min}, ${max}]`);
}

/** The knob table. Order is the order of the CLI help, the workbench fields and the command line. */
export const KNOBS = {
  max_epochs: knob({
    flag: 'max-epochs',
    valueName: '<n>',
    label: 'Epochs',
    unit: 'epochs',
    kind: { type: 'integer', min: 1, max: MAX_EPOCHS },
    defaultText: String(DEFAULT_MAX_EPOCHS),
    default: DEFAULT_MAX_EPOCHS,
    schema: integerKnob(1, MAX_EPOCHS),
    record: z.number().int().positive(),
    help: `epochs per job (default ${DEFAULT_MAX_EPOCHS}, or the data preset's)`,
    config: 'nepochs',
  }),
  n_groups: knob({
    flag: 'n-images',
    aliases: ['n-groups'],
    valueName: '<n>',
    label: 'n-images',
    unit: 'groups',
    kind: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
    defaultText: 'all',
    default: null,
    schema: integerKnob(1, Number.MAX_SAFE_INTEGER),
    record: z.number().int().positive(),
    help: 'groups per epoch (alias --n-groups; default: one per scan point)',
    config: 'n_groups',
  }),
  batch_size: knob({
    flag: 'batch-size',
    valueName: '<n>',
    label: 'Batch',
    unit: 'groups',
    kind: { type: 'integer', min: 1, max: Number.MAX_SAFE_INTEGER },
    defaultText: String(DEFAULT_BATCH_SIZE),
    default: DEFAULT_BATCH_SIZE,
    schema: integerKnob(1, Number.MAX_SAFE_INTEGER),
    record: z.number().int().positive(),
    help: `groups per batch (default ${DEFAULT_BATCH_SIZE})`,
    config: 'batch_size',
  }),
  learning_rate: knob({
    flag: 'learning-rate',
    valueName: '<lr>',
    unit: 'per step',
    kind: { type: 'number', min: 0, max: MAX_LEARNING_RATE, noun: 'learning rate' },
    defaultText: '1e-3',
    default: 1e-3,
    schema: z.number().positive().max(MAX_LEARNING_RATE),
    record: z.number().positive(),
    help: `Adam learning rate in (0, ${MAX_LEARNING_RATE}] (default 1e-3)`,
    config: 'learning_rate',
  }),
  early_stopping_patience: knob({
    flag: 'early-stopping-patience',
    valueName: '<epochs>',
    label: 'Patience',
    unit: 'epochs',
    kind: { type: 'integer', min: 0, max: MAX_EARLY_STOPPING_PATIENCE },
    defaultText: '3',
    default: 3,
    schema: integerKnob(0, MAX_EARLY_STOPPING_PATIENCE),
    record: z.number().int().nonnegative(),
    help: 'epochs without a better monitored loss before a job stops early (default 3)',
    config: 'early_stopping_patience',
  }),
  accelerator: knob({
    flag: 'accelerator',
    valueName: '<name>',
    label: 'Accelerator',
    kind: { type: 'choice', choices: ACCELERATORS },
    defaultText: 'auto',
    default: 'auto',
    cliDefault: true,
    schema: Accelerator,
    record: Accelerator,
    help: 'execution provider; auto falls back to CPU with a notice',
    config: 'accelerator',
    changesResult: false,
  }),
  deterministic: knob({
    flag: 'deterministic',
    label: 'Deterministic',
    kind: { type: 'boolean' },
    defaultText: 'off',
    default: false,
    schema: z.boolean(),
    record: z.boolean(),
    help: 'bit-for-bit repeatable CPU runs (pins the thread count)',
    config: 'deterministic',
  }),
  num_workers: knob({
    flag: 'num-workers',
    valueName: '<n>',
    kind: { type: 'integer', min: 0, max: MAX_NUM_WORKERS },
    defaultText: '0',
    default: 0,
    schema: integerKnob(0, MAX_NUM_WORKERS),
    record: z.number().int().nonnegative(),
    help: 'data-loading threads (0 = on the training thread)',
    config: 'num_workers',
    changesResult: false,
  }),
  logger: knob({
    flag: 'logger',
    valueName: '<kind>',
    kind: { type: 'choice', choices: LOGGERS },
    defaultText: 'none',
    default: 'none',
    schema: Logger,
    record: Logger,
    help: 'extra logger beside events.jsonl and train.log',
    config: 'logger',
    changesResult: false,
  }),
  disable_checkpointing: knob({
    flag: 'disable-checkpointing',
    kind: { type: 'boolean' },
    defaultText: 'off',
    default: false,
    schema: z.boolean(),
    record: z.boolean(),
    help: 'no per-epoch checkpoints (the final checkpoint and model are still written)',
    config: 'disable_checkpointing',
    changesResult: false,
  }),
  seed: knob({
    flag: 'seed',
    valueName: '<n>',
    label: 'Seed',
    kind: { type: 'integer', min: 0, max: MAX_SEED },
    defaultText: '42',
    default: 42,
    schema: integerKnob(0, MAX_SEED),
    record: z.number().int().nonnegative(),
    help: 'seed of weights, batch order and validation split',
    config: 'seed',
  }),
  resume: knob({
    flag: 'resume',
    kind: { type: 'boolean' },
    defaultText: 'off',
    default: false,
    schema: z.boolean(),
    record: z.boolean(),
    help: 'continue each job from its last checkpoint',
    config: null,
  }),
} as const;

export type KnobKey = keyof typeof KNOBS;
export const KNOB_KEYS = Object.keys(KNOBS) as KnobKey[];

type RecordShape = { [K in KnobKey]: (typeof KNOBS)[K]['record'] };
type SchemaShape = { [K in KnobKey]: (typeof KNOBS)[K]['schema'] };

function shapeOf<T>(pick: (k: KnobKey) => z.ZodType): T {
  return Object.fromEntries(KNOB_KEYS.map((k) => [k, pick(k)])) as T;
}

/**
 * Trainer knobs one invocation sets for every selected job. Absent knobs take the design's /
 * model's defaults; the manifest records the knobs as given and, per job, the full config
 * that resulted. Unbounded, so that a manifest written before a bound existed still opens.
 */
export const TrainingKnobs = z
  .object(shapeOf<RecordShape>((k) => KNOBS[k].record))
  .partial()
  .strict();
export type TrainingKnobs = z.infer<typeof TrainingKnobs>;

/** Knobs as a user asks for them (CLI flags, the API, the workbench), with the ranges checked. */
export const TrainingKnobsInput = z
  .object(shapeOf<SchemaShape>((k) => KNOBS[k].schema))
  .partial()
  .strict();
export type TrainingKnobsInput = z.infer<typeof TrainingKnobsInput>;

/** The TrainingConfig fields of the knobs that cannot change a job's result (the up-to-date check ignores them). */
export function configFieldsWithoutEffect(): (keyof TrainingConfig)[] {
  return KNOB_KEYS.flatMap((k) => {
    const spec: KnobSpec = KNOBS[k];
    return spec.config !== null && spec.changesResult === false ? [spec.config] : [];
  });
}

/** `max-epochs` → `--max-epochs`, with its other spellings for a one-line error. */
export function knobFlagText(key: KnobKey): string {
  const spec: KnobSpec = KNOBS[key];
  return [spec.flag, ...(spec.aliases ?? [])].map((f) => `--${f}`).join('/');
}

/** The valid values of a knob in words, e.g. "an integer in [1, 100000]". */
export function knobRangeText(key: KnobKey): string {
  const kind = KNOBS[key].kind as KnobKind;
  switch (kind.type) {
    case 'integer':
      return kind.max === Number.MAX_SAFE_INTEGER
        ? `an integer ≥ ${kind.min}`
        : `an integer in [${kind.min}, ${kind.max}]`;
    case 'number':
      return `a ${kind.noun} in (${kind.min}, ${kind.max}]`;
    case 'choice':
      return `one of ${kind.choices.join(', ')}`;
    case 'boolean':
      return 'on or off';
  }
}

/**
 * Parse a value typed as text (a CLI argument, a workbench field) into the knob's value.
 * Returns the value or the reason it is refused, naming the valid range.
 */
export function parseKnobText<K extends KnobKey>(
  key: K,
  text: string,
): { ok: true; value: NonNullable<TrainingKnobsInput[K]> } | { ok: false; error: string } {
  const spec: KnobSpec = KNOBS[key];
  const t = text.trim();
  let candidate: unknown = t;
  if (spec.kind.type === 'integer' || spec.kind.type === 'number') candidate = t === '' ? Number.NaN : Number(t);
  else if (spec.kind.type === 'boolean') candidate = t === 'true' ? true : t === 'false' ? false : t;
  const r = spec.schema.safeParse(candidate);
  if (r.success && (typeof candidate !== 'number' || Number.isFinite(candidate)))
    return { ok: true, value: r.data as NonNullable<TrainingKnobsInput[K]> };
  return { ok: false, error: `expected ${knobRangeText(key)}, got '${text}'` };
}

/**
 * The config bridge for knobs: each knob given sets its TrainingConfig field. A knob without
 * a config field (`resume`) is an instruction to the runner, not part of the config.
 */
export function knobConfigFields(knobs: TrainingKnobs): Partial<Record<keyof TrainingConfig, unknown>> {
  const out: Partial<Record<keyof TrainingConfig, unknown>> = {};
  for (const key of KNOB_KEYS) {
    const field = KNOBS[key].config;
    const value = knobs[key];
    if (field !== null && value !== undefined) out[field] = value;
  }
  return out;
}

/** A knob's value as a form holds it: null (or absent) = not given, the default applies. */
export type KnobValues = { [K in KnobKey]?: TrainingKnobs[K] | null };

/**
 * The knobs as the workbench holds them (persisted per user): every knob may be left blank.
 * Lenient on load, so settings saved before a knob existed still open.
 */
export const KnobValues = z.object(
  shapeOf<{ [K in KnobKey]: z.ZodOptional<z.ZodNullable<(typeof KNOBS)[K]['record']>> }>((k) =>
    KNOBS[k].record.nullable().optional(),
  ),
);

/** The knobs the workbench shows, in table order: those with a label. */
export const WORKBENCH_KNOBS: readonly KnobKey[] = KNOB_KEYS.filter((k) => (KNOBS[k] as KnobSpec).label !== undefined);

/** The workbench's starting values: every field blank, a choice at its default, a switch off. */
export function defaultKnobValues(): KnobValues {
  const out: Record<string, unknown> = {};
  for (const key of WORKBENCH_KNOBS) {
    const spec: KnobSpec = KNOBS[key];
    out[key] = spec.kind.type === 'choice' || spec.kind.type === 'boolean' ? spec.default : null;
  }
  return out as KnobValues;
}

/** The knobs a form gives: blanks and switches left off are not given. */
export function givenKnobs(values: KnobValues): TrainingKnobs {
  const out: Record<string, unknown> = {};
  for (const key of KNOB_KEYS) {
    const value = values[key];
    if (value === null || value === undefined || value === false) continue;
    out[key] = value;
  }
  return out as TrainingKnobs;
}

/** Knobs back to the `train` arguments that produce them: `[flag, value]`, or `[flag]` for a switch that is on. */
export function knobArgs(knobs: TrainingKnobs, options: { omitCliDefaults?: boolean } = {}): string[][] {
  const out: string[][] = [];
  for (const key of KNOB_KEYS) {
    const spec: KnobSpec = KNOBS[key];
    const value = knobs[key];
    if (value === undefined || value === null) continue;
    // `--accelerator auto` is what the command does anyway
    if (options.omitCliDefaults && spec.cliDefault && value === spec.default) continue;
    if (spec.kind.type === 'boolean') {
      if (value === true) out.push([`--${spec.flag}`]);
    } else out.push([`--${spec.flag}`, String(value)]);
  }
  return out;
}

/** Knobs back to the `train` flags that produce them, as one argument list. */
export function knobFlags(knobs: TrainingKnobs, options: { omitCliDefaults?: boolean } = {}): string[] {
  return knobArgs(knobs, options).flat();
}
