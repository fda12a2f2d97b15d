/**
 * A job that the manifest says is running (or queued) but whose process is gone was
 * interrupted — the app quit, the machine rebooted, the CLI was killed. Marking it so on
 * start-up is what keeps "zombie running" jobs out of the UI.
 */
import { hostname, uptime } from 'node:os';
import type { ManifestJob, TrainingManifest } from '../../shared/manifest';
import { isProcessAlive } from './lock';
import { updateManifest } from './manifest-store';

/** A run started before this machine booted cannot still be running, whatever now holds its pid. */
function startedBeforeBoot(startedAt: string | undefined): boolean {
  if (!startedAt) return false;
  const bootedAt = Date.now() - uptime() * 1000;
  return Date.parse(startedAt) < bootedAt - 5000;
}

/** Is the process that owns this job's run still alive? Another host's process is assumed alive. */
export function jobOwnerAlive(
  m: TrainingManifest,
  job: ManifestJob,
  isActiveRun: (runId: string) => boolean = () => false,
): boolean {
  const run = m.runs.find((r) => r.run_id === job.run_id);
  const pid = job.worker?.pid ?? run?.pid;
  const host = job.worker?.hostname ?? run?.hostname;
  if (pid === undefined || host === undefined) return false;
  if (host !== hostname()) return true;
  if (pid === process.pid) return isActiveRun(job.run_id);
  return !startedBeforeBoot(run?.started_at) && isProcessAlive(pid);
}

/** Mark orphaned running/queued jobs and their runs as interrupted; returns the job ids changed. */
export async function recoverInterrupted(
  artifactRoot: string,
  isActiveRun: (runId: string) => boolean = () => false,
): Promise<string[]> {
  const changed: string[] = [];
  await updateManifest(artifactRoot, (m) => {
    if (!m) return null;
    const now = new Date().toISOString();
    const jobs = m.jobs.map((j) => {
      if ((j.status !== 'running' && j.status !== 'queued') || jobOwnerAlive(m, j, isActiveRun)) return j;
      changed.push(j.id);
      const note =
        j.status === 'running'
          ? `interrupted: the process training it (pid ${j.worker?.pid ?? '?'}) is gone; resume with --resume`
          : 'interrupted: the run was stopped before this job started';
      return {
        ...j,
        status: 'interrupted' as const,
        worker: null,
        updated_at: now,
        result: {
          status: 'interrupted' as const,
          final_loss: j.progress?.last_loss ?? null,
          epochs_completed: j.progress?.epoch ?? 0,
          checkpoint_path: null,
          error: note,
        },
      };
    });
    const runs = m.runs.map((r) => {
      if (r.status !== 'running') return r;
      const alive =
        r.hostname !== hostname() ||
        (r.pid === process.pid ? isActiveRun(r.run_id) : !startedBeforeBoot(r.started_at) && isProcessAlive(r.pid));
      return alive ? r : { ...r, status: 'interrupted' as const, finished_at: r.finished_at ?? now };
    });
    if (changed.length === 0 && runs.every((r, i) => r === m.runs[i])) return null;
    return { ...m, jobs, runs };
  });
  return changed;
}
