/**
 * The classical row's state in the UI: per (dose, view) job, its state and data-fit error
 * curve, started from `getClassical` and folded forward with `classicalProgress` events.
 */
import {
  CLASSICAL_ITERATIONS,
  type ClassicalProgressEvent,
  type ClassicalState,
  type GetClassicalOutput,
} from '../../../shared/classical-api';
import { z } from 'zod';
import { ClassicalAlgorithm, type ClassicalRow } from '../../../shared/classical';
import type { ViewName } from '../../../shared/study';
import { quote } from './cli-command';

export interface ClassicalCell {
  jobId: string;
  dose: number;
  view: string;
  state: ClassicalState | null;
  iteration: number;
  iterations: number | null;
  errors: number[];
  row: ClassicalRow | null;
  message: string | null;
  /** It stopped short (cancelled or interrupted) with iterations to continue from. */
  resumable: boolean;
  /** The run of this workbench that last queued or ran it (cancel takes that run out), when known. */
  runId: string | null;
}

export type ClassicalCells = Map<string, ClassicalCell>;

export function cellsFromListing(g: GetClassicalOutput): ClassicalCells {
  const rows = new Map((g.file?.rows ?? []).map((r) => [r.job_id, r]));
  return new Map(
    g.jobs.map((j) => [
      j.jobId,
      {
        jobId: j.jobId,
        dose: j.dose,
        view: j.view,
        state: j.state,
        iteration: j.errors.length,
        iterations: j.target ?? rows.get(j.jobId)?.iterations ?? null,
        errors: j.errors,
        row: rows.get(j.jobId) ?? null,
        message:
          j.state === 'interrupted'
            ? 'interrupted: the process reconstructing it is gone'
            : (rows.get(j.jobId)?.reason ?? null),
        resumable: j.resumable,
        runId: g.running?.jobId === j.jobId ? g.running.runId : null,
      },
    ]),
  );
}

/**
 * One progress event applied; returns a new map (the old one is left as it was). The curve is
 * kept while a job waits; iteration i puts its error at place i, so a fresh run (i = 1)
 * replaces the old curve, a resumed one continues it, and a repeated event changes nothing.
 */
export function foldClassical(cells: ClassicalCells, e: ClassicalProgressEvent): ClassicalCells {
  const prev = cells.get(e.jobId);
  const started = e.state === 'running' && e.iteration === 0;
  const before = prev?.errors ?? [];
  const errors =
    e.state === 'running' && e.error !== null && e.iteration > 0
      ? [...before.slice(0, e.iteration - 1), e.error]
      : before;
  const next: ClassicalCell = {
    jobId: e.jobId,
    dose: e.dose,
    view: e.view,
    state: e.state,
    iteration: e.state === 'queued' ? (prev?.iteration ?? 0) : e.iteration,
    iterations: e.iterations,
    errors,
    row: started ? null : (prev?.row ?? null),
    message: e.message,
    resumable: (e.state === 'cancelled' && e.iteration > 0) || e.state === 'interrupted',
    runId: e.runId,
  };
  const out = new Map(cells);
  out.set(e.jobId, next);
  return out;
}

/** An SVG polyline path of log10(error) over iterations, in a w × h box. */
export function sparklinePath(errors: readonly number[], w: number, h: number): string {
  const ys = errors.filter((v) => v > 0).map((v) => Math.log10(v));
  if (ys.length < 2) return '';
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  const span = hi - lo || 1;
  return ys
    .map(
      (y, i) => `${i ? 'L' : 'M'}${((i / (ys.length - 1)) * w).toFixed(1)},${(h - ((y - lo) / span) * h).toFixed(1)}`,
    )
    .join('');
}

/** The Classical row's settings as typed (numbers as text, so a refused value stays on screen). */
export interface ClassicalSettings {
  algorithm: ClassicalAlgorithm;
  iterations: string;
  probeUpdate: boolean;
  /** LSQML's TV prior weight; blank = none (0). */
  tv: string;
  resume: boolean;
}

export const DEFAULT_CLASSICAL_SETTINGS: ClassicalSettings = {
  algorithm: 'epie',
  iterations: '100',
  probeUpdate: true,
  tv: '',
  resume: false,
};

/** What is kept per study between visits: the settings, less the one-off `resume`. */
const KeptSettings = z.object({
  algorithm: ClassicalAlgorithm,
  iterations: z.string().max(40),
  probeUpdate: z.boolean(),
  tv: z.string().max(40),
});

/** localStorage key of the Classical row's settings: `{ [artifactRoot]: settings }`, latest study last. */
export const CLASSICAL_SETTINGS_KEY = 'ptycho-study.classical-settings.v1';
/** Studies remembered; the one used longest ago is forgotten first. */
const KEPT_STUDIES = 30;

type Store = Pick<Storage, 'getItem' | 'setItem'>;

/** The page's localStorage, or null where storage is disabled (touching it can throw then). */
export function browserStorage(): Store | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

function readKept(storage: Store): Record<string, unknown> {
  try {
    const raw = JSON.parse(storage.getItem(CLASSICAL_SETTINGS_KEY) ?? '{}') as unknown;
    return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The settings the Classical row last had for this study (artifact root); the defaults where
 * none were kept, or a kept entry is not valid any more (hand-edited, older version).
 */
export function loadClassicalSettings(storage: Store | null, artifactRoot: string | null): ClassicalSettings {
  if (!storage || !artifactRoot) return DEFAULT_CLASSICAL_SETTINGS;
  const kept = KeptSettings.safeParse(readKept(storage)[artifactRoot]);
  return kept.success ? { ...DEFAULT_CLASSICAL_SETTINGS, ...kept.data } : DEFAULT_CLASSICAL_SETTINGS;
}

/** Keeps this study's settings (as typed, refused values included: the field shows them again). */
export function saveClassicalSettings(storage: Store | null, artifactRoot: string | null, s: ClassicalSettings): void {
  if (!storage || !artifactRoot) return;
  const { [artifactRoot]: _old, ...others } = readKept(storage);
  const kept = Object.entries(others).slice(-(KEPT_STUDIES - 1));
  const entry: z.infer<typeof KeptSettings> = {
    algorithm: s.algorithm,
    iterations: s.iterations.slice(0, 40),
    probeUpdate: s.probeUpdate,
    tv: s.tv.slice(0, 40),
  };
  try {
    storage.setItem(CLASSICAL_SETTINGS_KEY, JSON.stringify(Object.fromEntries([...kept, [artifactRoot, entry]])));
  } catch {
    // storage full or disabled: the settings simply are not remembered
  }
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Iterations as `reconstruct --iterations` takes them. */
export function checkIterations(text: string): Checked<number> {
  const n = Number(text.trim());
  const { min, max } = CLASSICAL_ITERATIONS;
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    return { ok: false, error: `iterations: a whole number from ${min} to ${max}, not '${text}'` };
  return { ok: true, value: n };
}

/** The TV prior weight as `reconstruct --tv` takes it (blank: not given). */
export function checkTv(text: string): Checked<number | null> {
  if (text.trim() === '') return { ok: true, value: null };
  const n = Number(text.trim());
  if (!Number.isFinite(n) || n < 0) return { ok: false, error: `TV weight: a number ≥ 0, not '${text}'` };
  return { ok: true, value: n };
}

/** Every refused field's message (empty when all can be sent); TV counts only for LSQML. */
export function settingsErrors(s: ClassicalSettings): string[] {
  const out: string[] = [];
  const it = checkIterations(s.iterations);
  if (!it.ok) out.push(it.error);
  const tv = checkTv(s.tv);
  if (s.algorithm === 'lsqml' && !tv.ok) out.push(tv.error);
  return out;
}

/** The API input of a Reconstruct with these (valid) settings, for one (dose, view) or all. */
export function classicalInput(
  s: ClassicalSettings,
  focused: { dose: number; view: ViewName } | null,
): {
  dose: number | null;
  view: ViewName | null;
  algorithm: ClassicalAlgorithm;
  iterations?: number;
  probeUpdate: boolean;
  tv?: number;
  resume: boolean;
} {
  const it = checkIterations(s.iterations);
  const tv = checkTv(s.tv);
  return {
    dose: focused?.dose ?? null,
    view: focused?.view ?? null,
    algorithm: s.algorithm,
    ...(it.ok ? { iterations: it.value } : {}),
    probeUpdate: s.probeUpdate,
    ...(s.algorithm === 'lsqml' && tv.ok && tv.value !== null ? { tv: tv.value } : {}),
    resume: s.resume,
  };
}

/** The `ptycho-study reconstruct` command that does what Reconstruct does with these settings. */
export function reconstructCommand(
  roots: { phaseC: string; phaseD: string; artifact: string },
  s: ClassicalSettings,
  focused: { dose: number; view: ViewName } | null,
): string {
  const i = classicalInput(s, focused);
  return [
    'ptycho-study reconstruct',
    `--phase-c-root ${quote(roots.phaseC)}`,
    `--phase-d-root ${quote(roots.phaseD)}`,
    `--artifact-root ${quote(roots.artifact)}`,
    `--algorithm ${i.algorithm}`,
    i.iterations !== undefined ? `--iterations ${i.iterations}` : null,
    `--probe-update ${i.probeUpdate ? 'on' : 'off'}`,
    i.tv !== undefined ? `--tv ${i.tv}` : null,
    i.dose !== null ? `--dose ${i.dose}` : null,
    i.view !== null ? `--view ${i.view}` : null,
    i.resume ? '--resume' : null,
  ]
    .filter((x): x is string => x !== null)
    .join(' ');
}
