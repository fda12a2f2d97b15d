/**
 * Which of a selection's jobs must train: those whose recorded outcome is not current
 * (fingerprint.ts), or all with `force`. The fingerprints of the jobs that will train are
 * handed to the run, which records them on each job's entry (with the Slurm task that
 * runs it, when under Slurm).
 */
import { hostname } from 'node:os';
import type { JobFreshness, SlurmJobRef } from '../../shared/fingerprint';
import type { StudyDesign, TrainingKnobs } from '../../shared/study';
import { checkJobs, type JobCheck } from './fingerprint';
import type { StudyRoots, TrainingJob } from './jobs';
import { readManifestFile } from './manifest-store';
import { resolveJobConfig } from './resolve-config';

export interface StaleSelection {
  /** Jobs to hand to the run: not up to date (or forced), plus skipped ones (recorded as skipped). */
  jobs: TrainingJob[];
  /** Jobs left out because they are up to date. */
  upToDate: TrainingJob[];
  checks: Map<string, JobCheck>;
  /** Per job: fields the run records on its entry. */
  jobFields: Map<string, Record<string, unknown>>;
}

/** The Slurm array task this process runs as, from Slurm's environment; null outside Slurm. */
export function slurmTaskFromEnv(env: NodeJS.ProcessEnv = process.env): SlurmJobRef | null {
  const job = env.SLURM_ARRAY_JOB_ID ?? env.SLURM_JOB_ID;
  if (!job) return null;
  const task = env.SLURM_ARRAY_TASK_ID !== undefined ? Number(env.SLURM_ARRAY_TASK_ID) : null;
  return {
    job_id: job,
    array_task_id: task !== null && Number.isInteger(task) ? task : null,
    state: 'RUNNING',
    reason: null,
    node: env.SLURMD_NODENAME ?? hostname(),
  };
}

/** What a run started by a Slurm array task records about it; undefined outside Slurm. */
export function slurmRunRef(
  env: NodeJS.ProcessEnv = process.env,
): { job_id: string; array_task_id: number | null } | undefined {
  const t = slurmTaskFromEnv(env);
  return t ? { job_id: t.job_id, array_task_id: t.array_task_id } : undefined;
}

export function selectStaleJobs(
  jobs: TrainingJob[],
  o: {
    roots: StudyRoots;
    design: StudyDesign;
    knobs: TrainingKnobs;
    force?: boolean;
    deep?: boolean;
  },
): StaleSelection {
  const manifest = readManifestFile(o.roots.artifactRoot).manifest;
  const checks = checkJobs(jobs, manifest, (job) => resolveJobConfig(job, o.design, o.knobs), o.roots, {
    deep: o.deep,
  });
  const slurm = slurmTaskFromEnv();
  const previous = new Map((manifest?.jobs ?? []).map((j) => [j.id, j]));
  const jobFields = new Map<string, Record<string, unknown>>();
  const selected: TrainingJob[] = [];
  const upToDate: TrainingJob[] = [];
  for (const job of jobs) {
    const check = checks.get(job.id);
    if (check?.freshness.upToDate && !o.force) {
      upToDate.push(job);
      continue;
    }
    selected.push(job);
    if (!check) continue;
    const fields: Record<string, unknown> = { fingerprint: check.fingerprint };
    if (slurm) {
      const before = previous.get(job.id)?.slurm as Partial<SlurmJobRef> | undefined;
      fields.slurm = { ...slurm, submitted_at: before?.job_id === slurm.job_id ? before.submitted_at : undefined };
    }
    jobFields.set(job.id, fields);
  }
  return { jobs: selected, upToDate, checks, jobFields };
}

export function freshnessOf(s: StaleSelection, jobId: string, force = false): JobFreshness | null {
  const f = s.checks.get(jobId)?.freshness ?? null;
  if (f?.upToDate && force) return { ...f, upToDate: false, reasons: ['--force'] };
  return f;
}
