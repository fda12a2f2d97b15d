/**
 * What the user set and expects back next launch: roots, knobs, dry-run, chart options and
 * theme. Persisted in localStorage (per app in Electron, per origin in the browser) and
 * validated on load, so a stale or hand-edited entry falls back to defaults instead of
 * breaking the page.
 */
import { z } from 'zod';
import { create } from 'zustand';
import { defaultKnobValues, KnobValues } from '../../../shared/knobs';

/** The trainer knobs as the Run panel holds them (the knob table's fields; blank = default). */
export const Knobs = KnobValues;
export type Knobs = KnobValues;

export const Roots = z.object({ phaseC: z.string(), phaseD: z.string(), artifact: z.string() });

/** The `slurm submit` options as the Run panel holds them (blank = Slurm's default). */
export const SlurmOptions = z.object({
  partition: z.string(),
  time: z.string(),
  gres: z.string(),
  cpusPerTask: z.number().int().positive().nullable(),
  mem: z.string(),
  maxParallel: z.number().int().positive().nullable(),
  account: z.string(),
  extra: z.string(),
});
export type SlurmOptions = z.infer<typeof SlurmOptions>;
export type Roots = z.infer<typeof Roots>;

const Persisted = z.object({
  theme: z.enum(['light', 'dark']),
  roots: Roots.nullable(),
  knobs: Knobs,
  dryRun: z.boolean(),
  force: z.boolean(),
  runOn: z.enum(['local', 'slurm']),
  slurm: SlurmOptions,
  smoothing: z.number().min(0).max(0.999),
  logScale: z.boolean(),
  /** Leave points far from their neighbourhood's median out of the smoothed line (lib/smooth). */
  ignoreOutliers: z.boolean(),
  xAxis: z.enum(['step', 'epoch', 'relative', 'wall']),
});
type Persisted = z.infer<typeof Persisted>;

const KEY = 'ptycho-study.settings.v1';

function systemTheme(): 'light' | 'dark' {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function defaults(): Persisted {
  return {
    theme: systemTheme(),
    roots: null,
    knobs: defaultKnobValues(),
    dryRun: false,
    force: false,
    runOn: 'local',
    slurm: {
      partition: '',
      time: '',
      gres: '',
      cpusPerTask: null,
      mem: '',
      maxParallel: null,
      account: '',
      extra: '',
    },
    smoothing: 0.6,
    logScale: true,
    ignoreOutliers: true,
    xAxis: 'step',
  };
}

function load(): Persisted {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return defaults();
    const parsed = Persisted.partial().safeParse(JSON.parse(raw));
    return parsed.success ? { ...defaults(), ...parsed.data } : defaults();
  } catch {
    return defaults();
  }
}

interface SettingsState extends Persisted {
  set(patch: Partial<Persisted>): void;
  setKnob<K extends keyof Knobs>(key: K, value: Knobs[K]): void;
}

export const useSettings = create<SettingsState>((set, get) => ({
  ...load(),
  set(patch) {
    set(patch);
    save(get());
  },
  setKnob(key, value) {
    set({ knobs: { ...get().knobs, [key]: value } });
    save(get());
  },
}));

function save(s: SettingsState): void {
  const { theme, roots, knobs, dryRun, force, runOn, slurm, smoothing, logScale, ignoreOutliers, xAxis } = s;
  try {
    localStorage.setItem(
      KEY,
      JSON.stringify({ theme, roots, knobs, dryRun, force, runOn, slurm, smoothing, logScale, ignoreOutliers, xAxis }),
    );
  } catch {
    // storage full or disabled: settings simply are not remembered
  }
}
