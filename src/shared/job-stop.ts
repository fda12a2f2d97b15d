/**
 * Why a job stopped and where: what a matrix cell shows for a cancelled, failed, diverged or
 * interrupted job ("cancelled at epoch 4 of 12", "failed: <message>"). A pure function of
 * the job's manifest entry, so the service, the CLI and the renderer say the same thing.
 */
import { z } from 'zod';
import type { ManifestJob } from './manifest';

export const STOPPED_STATUSES = ['cancelled', 'failed', 'diverged', 'interrupted'] as const;
export const StoppedStatus = z.enum(STOPPED_STATUSES);
export type StoppedStatus = z.infer<typeof StoppedStatus>;

export const JobStop = z.object({
  status: StoppedStatus,
  /** Epochs fully trained when it stopped (what a resume keeps); null when unknown. */
  epochsCompleted: z.number().int().nonnegative().nullable(),
  /** 1-based epoch it was in when it stopped (epochsCompleted + 1 when an epoch was under way). */
  epoch: z.number().int().positive().nullable(),
  totalEpochs: z.number().int().nonnegative().nullable(),
  /** Steps taken when it stopped; null when unknown. */
  step: z.number().int().nonnegative().nullable(),
  totalSteps: z.number().int().nonnegative().nullable(),
  /** The error (failed, diverged) or the reason recorded (cancelled by a signal, interrupted). */
  message: z.string().nullable(),
  /** One line for a cell: "cancelled at epoch 4 of 12", "failed: data file …", "interrupted at epoch 2 of 12". */
  summary: z.string(),
  /** The checkpoint the runner recorded (null when none was recorded, e.g. interrupted). */
  checkpointPath: z.string().nullable(),
});
export type JobStop = z.infer<typeof JobStop>;

function isStopped(s: string): s is StoppedStatus {
  return (STOPPED_STATUSES as readonly string[]).includes(s);
}

export function jobStopOf(job: Pick<ManifestJob, 'status' | 'result' | 'progress'>): JobStop | null {
  if (!isStopped(job.status)) return null;
  const r = job.result;
  const p = job.progress;
  const completed = r ? r.epochs_completed : null;
  const step = p?.step ?? (typeof r?.steps === 'number' ? r.steps : null);
  const totalEpochs = p?.total_epochs ?? null;
  const totalSteps = p?.total_steps ?? null;
  // progress.epoch is the 0-based epoch being trained (step events) or just completed (epoch events)
  let epoch: number | null = null;
  if (p?.epoch !== null && p?.epoch !== undefined) epoch = Math.max(p.epoch + 1, (completed ?? 0) + 1);
  else if (completed !== null) epoch = completed + 1;
  if (epoch !== null && totalEpochs) epoch = Math.min(epoch, totalEpochs);
  const message = r?.error ?? null;
  const where = epoch !== null ? ` at epoch ${epoch}${totalEpochs ? ` of ${totalEpochs}` : ''}` : '';
  const firstLine = message?.split('\n')[0] ?? null;
  const summary =
    job.status === 'failed'
      ? `failed${where}${firstLine ? `: ${firstLine}` : ''}`
      : job.status === 'diverged'
        ? `diverged${where}${firstLine ? `: ${firstLine}` : ''}`
        : `${job.status}${where}`;
  return {
    status: job.status,
    epochsCompleted: completed,
    epoch,
    totalEpochs,
    step,
    totalSteps,
    message,
    summary,
    checkpointPath: r?.checkpoint_path ?? null,
  };
}
