/**
 * The workbench's one run queue as the API shows it: the run computing now, then the runs
 * waiting, in the order they will start — training runs and classical reconstructions alike
 * (one CPU-bound run at a time, first come first served). Spread into api.ts.
 */
import { z } from 'zod';

export const QueuedRunKind = z.enum(['training', 'classical']);
export type QueuedRunKind = z.infer<typeof QueuedRunKind>;

export const QueuedRunView = z.object({
  runId: z.string(),
  kind: QueuedRunKind,
  /** `running`: the one run computing now (listed first); `queued`: waiting its turn. */
  state: z.enum(['running', 'queued']),
  artifactRoot: z.string(),
  /** The run's jobs in the order it takes them (a training run's `jobIds`, a classical run's (dose, view)s). */
  jobIds: z.array(z.string()),
});
export type QueuedRunView = z.infer<typeof QueuedRunView>;

/** Only the runs of this artifact root (absent: every run of the queue). */
export const ListQueueInput = z.object({ artifactRoot: z.string().min(1).optional() }).strict();
export const ListQueueOutput = z.object({ runs: z.array(QueuedRunView) });
export type ListQueueOutput = z.infer<typeof ListQueueOutput>;

export const queueApiMethods = {
  listQueue: { input: ListQueueInput, output: ListQueueOutput },
} as const;
