/**
 * The renderer's view of a job: one matrix cell. Built from the engine's job list (data
 * status) merged with the manifest's latest state and live progress.
 */
import type { JobProgress, JobStatus } from '../../shared/manifest';
import { blankJobCellFields } from '../../shared/job-cell';
import { matrixColumns } from '../../shared/study';

export type CellState = JobStatus | 'ready' | 'missing';

export interface JobCell {
  id: string;
  dose: number;
  view: 'baseline' | 'dense' | 'sparse';
  gridsize: 1 | 2;
  state: CellState;
  /** Why it is skipped/failed/missing, in words. */
  reason: string | null;
  missingFiles: string[];
  finalLoss: number | null;
  dryRun: boolean;
  progress: JobProgress | null;
  /** Wall-clock time (ms) the job should finish at, from the last ETA the trainer gave. */
  etaAt: number | null;
  artifactDir: string | null;
  logPath: string | null;
  /** The Slurm task holding it and what Slurm last said, e.g. `Slurm 12_0 PENDING (Priority)`. */
  slurm?: string | null;
  /** "up to date" or "will run: <reason>" against the knobs it was last trained with. */
  freshness?: string | null;
  /** Why and where it stopped, e.g. "cancelled at epoch 4 of 12" (stopped jobs only). */
  stop?: string | null;
  /** It stopped with a checkpoint on disk: Resume continues it. */
  resumable?: boolean;
}

/** A cell with nothing known yet beyond its place in the matrix: 'ready', no progress, no files. */
export function jobCell(place: Pick<JobCell, 'id' | 'dose' | 'view' | 'gridsize'> & Partial<JobCell>): JobCell {
  return { ...blankJobCellFields(), ...place };
}

/** The matrix's columns, from the study's one definition of the job matrix. */
export const COLUMNS = matrixColumns();

export function cellName(c: Pick<JobCell, 'dose' | 'view' | 'gridsize'>): string {
  return `dose ${c.dose} ${c.view} gs${c.gridsize}`;
}

/** Jobs that can still change by themselves (a live run). */
export function isActive(s: CellState): boolean {
  return s === 'queued' || s === 'running';
}

/** Seconds left, counting down from the trainer's last estimate (which comes once per epoch). */
export function etaSeconds(c: Pick<JobCell, 'etaAt'>, now = Date.now()): number | null {
  return c.etaAt === null ? null : Math.max(0, (c.etaAt - now) / 1000);
}

/** A new etaAt when the estimate changed, else the old one. */
export function nextEtaAt(prev: JobProgress | null, next: JobProgress | null, etaAt: number | null): number | null {
  if (!next || next.eta_s === null) return null;
  if (prev && prev.eta_s === next.eta_s && etaAt !== null) return etaAt;
  return Date.now() + next.eta_s * 1000;
}
