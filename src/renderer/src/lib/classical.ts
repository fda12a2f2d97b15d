/**
 * The classical row's state in the UI: per (dose, view) job, its state and data-fit error
 * curve, started from `getClassical` and folded forward with `classicalProgress` events.
 */
import type { ClassicalProgressEvent, ClassicalState, GetClassicalOutput } from '../../../shared/classical-api';
import type { ClassicalRow } from '../../../shared/classical';

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
