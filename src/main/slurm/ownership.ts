/**
 * Who holds a job that Slurm queued: Slurm itself, until the array task meant for it starts
 * and takes it over. No pid check applies (the task runs on another node, later).
 */
import type { ManifestJob } from '../../shared/manifest';

/**
 * For a queued job with a Slurm task: true while Slurm holds it (nobody else may start it),
 * false for the very task Slurm started for it (this process). Null when Slurm is not involved.
 */
export function heldBySlurm(job: ManifestJob, env: NodeJS.ProcessEnv = process.env): boolean | null {
  if (job.status !== 'queued' || !job.slurm) return null;
  const mine =
    (env.SLURM_ARRAY_JOB_ID ?? env.SLURM_JOB_ID) === job.slurm.job_id &&
    (job.slurm.array_task_id === null || String(job.slurm.array_task_id) === env.SLURM_ARRAY_TASK_ID);
  return !mine;
}
