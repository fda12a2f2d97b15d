/**
 * Slurm's job states → the manifest's job statuses (decisions.md: one status list). Slurm
 * knows when a task is waiting, was killed for time or memory, or lost its node; the
 * manifest knows what the training itself recorded. `reconcile` merges the two.
 */
import type { JobStatus, ManifestJob } from '../../shared/manifest';

/** What a Slurm state means for a job, and the reason worth showing beside it. */
export function statusForSlurmState(state: string): { status: JobStatus; reason: string | null } | null {
  const s = state.toUpperCase().replace(/\+$/, '').split(' ')[0];
  switch (s) {
    case 'PENDING':
    case 'REQUEUED':
    case 'REQUEUE_HOLD':
    case 'REQUEUE_FED':
    case 'RESV_DEL_HOLD':
    case 'SUSPENDED':
      return { status: 'queued', reason: null };
    case 'RUNNING':
    case 'CONFIGURING':
    case 'COMPLETING':
    case 'RESIZING':
    case 'SIGNALING':
    case 'STAGE_OUT':
      return { status: 'running', reason: null };
    case 'COMPLETED':
      return { status: 'done', reason: null };
    case 'CANCELLED':
      return { status: 'cancelled', reason: 'cancelled in Slurm' };
    case 'TIMEOUT':
      return { status: 'failed', reason: 'Slurm TIMEOUT: the task ran past its --time limit' };
    case 'OUT_OF_MEMORY':
      return { status: 'failed', reason: 'Slurm OUT_OF_MEMORY: the task ran past its --mem limit' };
    case 'NODE_FAIL':
      return { status: 'failed', reason: 'Slurm NODE_FAIL: the node running the task failed' };
    case 'BOOT_FAIL':
      return { status: 'failed', reason: 'Slurm BOOT_FAIL: the node could not boot' };
    case 'DEADLINE':
      return { status: 'failed', reason: 'Slurm DEADLINE: the task reached its deadline' };
    case 'PREEMPTED':
      return { status: 'failed', reason: 'Slurm PREEMPTED: another job took the node' };
    case 'FAILED':
      return { status: 'failed', reason: 'Slurm FAILED: the task exited non-zero' };
    case 'REVOKED':
      return { status: 'cancelled', reason: 'Slurm REVOKED' };
    default:
      return null;
  }
}

export interface SlurmTaskState {
  /** The array job id (the task's own id for a plain job). */
  jobId: string;
  arrayTaskId: number | null;
  state: string;
  /** Slurm's reason (Resources, Priority, …) or exit code; null when none. */
  reason: string | null;
  node: string | null;
}

/**
 * The job entry after Slurm's word: Slurm decides while the task waits or when it ended
 * without the training recording an outcome (killed for time, memory, a lost node,
 * cancelled before it started). A finished training's own record is never overwritten.
 */
export function reconcile(job: ManifestJob, task: SlurmTaskState, now: string): ManifestJob {
  const slurm = {
    ...job.slurm,
    job_id: task.jobId,
    array_task_id: task.arrayTaskId,
    state: task.state,
    reason: task.reason,
    node: task.node ?? job.slurm?.node ?? null,
  };
  const mapped = statusForSlurmState(task.state);
  const recordedFinal = !['queued', 'running', 'planned'].includes(job.status);
  if (!mapped || recordedFinal || mapped.status === 'running' || mapped.status === 'queued') return { ...job, slurm };
  if (mapped.status === 'done') {
    // Slurm says the task ended well but the training never wrote its outcome.
    return {
      ...job,
      slurm,
      status: 'failed',
      worker: null,
      updated_at: now,
      result: {
        status: 'failed',
        final_loss: job.progress?.last_loss ?? null,
        epochs_completed: job.progress?.epoch ?? 0,
        checkpoint_path: null,
        error: 'the Slurm task completed without recording an outcome (see its output file)',
      },
    };
  }
  return {
    ...job,
    slurm,
    status: mapped.status,
    worker: null,
    updated_at: now,
    result: {
      status: mapped.status,
      final_loss: job.progress?.last_loss ?? null,
      epochs_completed: job.progress?.epoch ?? 0,
      checkpoint_path: null,
      error: mapped.reason ?? task.state,
    },
  };
}
