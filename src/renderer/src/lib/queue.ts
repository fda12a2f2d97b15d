/**
 * The run queue panel's rows: training jobs and classical reconstructions share the service's
 * one run queue, so the panel lists them together — the live ones in the order that queue will
 * run them, then the ones this session saw finish.
 */
import type { QueuedRunView } from '../../../shared/queue-api';
import { isActive, type JobCell } from '../model';
import type { ClassicalCell } from './classical';

export type QueueItem =
  | { kind: 'training'; id: string; cell: JobCell }
  | {
      kind: 'classical';
      id: string;
      cell: ClassicalCell;
      /** The run that holds it (Cancel takes that run out, or stops it); null when not known yet. */
      runId: string | null;
    };

const classicalActive = (c: ClassicalCell) => c.state === 'queued' || c.state === 'running';

/**
 * The panel's rows. `runs` is the service's queue (running run first, then the waiting ones);
 * `training` is this session's training jobs in the panel's order (latest run first);
 * `classical` is this session's classical jobs, latest first. Queued and running jobs come
 * first, in the queue's order and each run's own job order; live jobs the queue does not list
 * (a Slurm array, another process, a queue read not yet answered) follow; then finished ones.
 */
export function queueItems(
  runs: readonly QueuedRunView[],
  training: readonly JobCell[],
  classical: readonly ClassicalCell[],
): QueueItem[] {
  const trainingById = new Map(training.map((c) => [c.id, c]));
  const classicalById = new Map(classical.map((c) => [c.jobId, c]));
  const out: QueueItem[] = [];
  const placed = new Set<string>();
  const place = (item: QueueItem) => {
    const key = `${item.kind}:${item.id}`;
    if (placed.has(key)) return;
    placed.add(key);
    out.push(item);
  };
  for (const run of runs)
    for (const id of run.jobIds) {
      if (run.kind === 'training') {
        const cell = trainingById.get(id);
        if (cell && isActive(cell.state)) place({ kind: 'training', id, cell });
      } else {
        const cell = classicalById.get(id);
        if (cell && classicalActive(cell)) place({ kind: 'classical', id, cell, runId: run.runId });
      }
    }
  for (const cell of training) if (isActive(cell.state)) place({ kind: 'training', id: cell.id, cell });
  for (const cell of classical)
    if (classicalActive(cell)) place({ kind: 'classical', id: cell.jobId, cell, runId: cell.runId });
  for (const cell of training) place({ kind: 'training', id: cell.id, cell });
  for (const cell of classical) place({ kind: 'classical', id: cell.jobId, cell, runId: cell.runId });
  return out;
}
