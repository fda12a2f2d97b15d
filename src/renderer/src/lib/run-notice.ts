/**
 * The status line's words for runs and cancels. A run's notice counts each job's own
 * outcome (cancelling one job of four is "3 done, 1 cancelled", not "run cancelled: 4
 * jobs"), and a "Cancelling …" notice is replaced by what happened once every job it named
 * has stopped, instead of staying up while the rest of the run goes on.
 */
import type { JobStatus } from '../../../shared/manifest';
import type { RunStateEvent } from '../../../shared/study-api';

const ORDER: JobStatus[] = ['done', 'failed', 'diverged', 'cancelled', 'interrupted', 'skipped', 'planned'];

/** "3 done, 1 cancelled" in a fixed order; statuses with no job are left out. */
export function countOutcomes(statuses: JobStatus[]): string {
  const counts = new Map<JobStatus, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...ORDER, ...[...counts.keys()].filter((s) => !ORDER.includes(s))]
    .filter((s) => counts.has(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(', ');
}

export function runNotice(ev: Pick<RunStateEvent, 'dryRun' | 'jobIds' | 'exitCode' | 'outcomes' | 'status'>): string {
  const n = ev.jobIds.length;
  if (ev.dryRun) return `Dry run finished: ${n} job(s) planned and written to the manifest — nothing was trained.`;
  const counts = ev.outcomes.length ? countOutcomes(ev.outcomes.map((o) => o.status)) : `${n} job(s) ${ev.status}`;
  const code = ev.exitCode !== null && ev.exitCode !== 0 ? ` (exit code ${ev.exitCode})` : '';
  return `Run finished: ${counts}${code}.`;
}

const SETTLED = new Set<JobStatus>(['done', 'failed', 'diverged', 'cancelled', 'interrupted', 'skipped', 'planned']);

/**
 * Follows the jobs a cancel named. `start` gives the "Cancelling …" notice; `settle` returns
 * the notice that replaces it once the last of those jobs has stopped (null before then,
 * and for jobs it was not asked about).
 */
export function createCancelTracker() {
  const pending = new Map<string, JobStatus | null>();
  return {
    start(ids: string[]): string {
      for (const id of ids) pending.set(id, null);
      return `Cancelling ${ids.join(', ')}…`;
    },
    /** `status` is a cell's state; data states ('ready', 'missing') and live ones are not an end. */
    settle(id: string, status: string): string | null {
      if (!pending.has(id) || !SETTLED.has(status as JobStatus)) return null;
      pending.set(id, status as JobStatus);
      if ([...pending.values()].some((s) => s === null)) return null;
      const ended = [...pending.entries()];
      pending.clear();
      const cancelled = ended.filter(([, s]) => s === 'cancelled').map(([j]) => j);
      const other = ended
        .filter(([, s]) => s !== 'cancelled')
        .map(([j, s]) => `${j} ${s} before the cancel took effect`);
      return [cancelled.length ? `Cancelled ${cancelled.join(', ')}.` : '', other.length ? `${other.join('; ')}.` : '']
        .filter(Boolean)
        .join(' ');
    },
    /** The ids still waiting to stop. */
    pending: (): string[] => [...pending.entries()].filter(([, s]) => s === null).map(([id]) => id),
  };
}
