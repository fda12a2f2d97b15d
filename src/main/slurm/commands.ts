/**
 * The Slurm client commands (sbatch, squeue, sacct, scancel), run as child processes with
 * their output parsed here. A missing command or a refusal is a StudyError naming the
 * command and what it printed.
 */
import { spawnSync } from 'node:child_process';
import { StudyError } from '../../shared/errors';
import type { SlurmTaskState } from './states';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type RunCommand = (cmd: string, args: string[], input?: string) => CommandResult;

export const runCommand: RunCommand = (cmd, args, input) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new StudyError(
      'NOT_FOUND',
      code === 'ENOENT' ? `${cmd} not found: is this a Slurm login node?` : `${cmd} failed: ${r.error.message}`,
      { key: cmd, hint: 'run on a machine with the Slurm client commands on PATH (and SLURM_CONF if needed)' },
    );
  }
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};

function refused(cmd: string, r: CommandResult): StudyError {
  const text = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ');
  return new StudyError('SLURM', `${cmd} exited ${r.code}: ${text || '(no output)'}`, { key: cmd });
}

/** Submit a batch script; returns the job id (sbatch --parsable prints `id[;cluster]`). */
export function sbatch(scriptPath: string, run: RunCommand = runCommand): string {
  const r = run('sbatch', ['--parsable', scriptPath]);
  if (r.code !== 0) throw refused('sbatch', r);
  const id = r.stdout.trim().split('\n').at(-1)?.split(';')[0] ?? '';
  if (!/^\d+$/.test(id))
    throw new StudyError('SLURM', `sbatch printed no job id: ${r.stdout.trim()}`, { key: 'sbatch' });
  return id;
}

/** `sbatch --test-only`: Slurm validates the script and says where it would run; submits nothing. */
export function sbatchTestOnly(scriptPath: string, run: RunCommand = runCommand): string {
  const r = run('sbatch', ['--test-only', scriptPath]);
  if (r.code !== 0) throw refused('sbatch --test-only', r);
  return (r.stderr || r.stdout).trim();
}

function parseTask(id: string): { jobId: string; arrayTaskId: number | null } {
  const m = /^(\d+)(?:_(\d+))?/.exec(id);
  if (!m) return { jobId: id, arrayTaskId: null };
  return { jobId: m[1], arrayTaskId: m[2] !== undefined ? Number(m[2]) : null };
}

/** Tasks of these array jobs that the controller still knows (pending, running and recently ended). */
export function squeue(jobIds: string[], run: RunCommand = runCommand): SlurmTaskState[] {
  if (jobIds.length === 0) return [];
  const r = run('squeue', ['-h', '-r', '--states=all', '-j', jobIds.join(','), '-o', '%i|%T|%r|%N']);
  // squeue exits 1 with "Invalid job id" once the controller has forgotten every id asked for.
  if (r.code !== 0) {
    if (/invalid job id/i.test(r.stderr)) return [];
    throw refused('squeue', r);
  }
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [id, state, reason, node] = line.split('|');
      return {
        ...parseTask(id.trim()),
        state: state.trim(),
        reason: reason?.trim() && reason.trim() !== 'None' ? reason.trim() : null,
        node: node?.trim() || null,
      };
    });
}

/** Ended tasks from Slurm's accounting (where it is enabled); [] where it is not. */
export function sacct(jobIds: string[], run: RunCommand = runCommand): SlurmTaskState[] {
  if (jobIds.length === 0) return [];
  const r = run('sacct', ['-n', '-X', '-P', '-j', jobIds.join(','), '-o', 'JobID,State,ExitCode,NodeList']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [id, state, exit, node] = line.split('|');
      return {
        ...parseTask(id.trim()),
        state: state.trim().split(' ')[0],
        reason: exit && exit !== '0:0' ? `exit ${exit}` : null,
        node: node?.trim() && node.trim() !== 'None assigned' ? node.trim() : null,
      };
    })
    .filter((t) => t.arrayTaskId !== null || !t.jobId.includes('['));
}

/** The controller's view first; accounting fills in tasks the controller has forgotten. */
export function slurmStates(jobIds: string[], run: RunCommand = runCommand): SlurmTaskState[] {
  const live = squeue(jobIds, run);
  const key = (t: SlurmTaskState) => `${t.jobId}_${t.arrayTaskId}`;
  const seen = new Set(live.map(key));
  const ended = sacct(jobIds, run).filter((t) => !seen.has(key(t)));
  return [...live, ...ended];
}

/**
 * Cancel tasks (`<job>_<task>`) or whole jobs. `graceful`: send SIGTERM to the batch process
 * alone (`--batch --signal=TERM`), i.e. to `ptycho-study train`, which then stops its
 * training worker with a checkpoint — a plain scancel signals every process of the task at
 * once, and the worker would die before it could write one.
 */
export function scancel(targets: string[], run: RunCommand = runCommand, graceful = false): void {
  if (targets.length === 0) return;
  const r = run('scancel', graceful ? ['--batch', '--signal=TERM', ...targets] : targets);
  if (r.code !== 0) throw refused('scancel', r);
}
