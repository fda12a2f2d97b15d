import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ManifestJob } from '../../shared/manifest';
import { type RunCommand, slurmStates, squeue } from './commands';
import { heldBySlurm } from './ownership';
import { buildSlurmScript, knobFlags, shellQuote } from './script';
import { reconcile, statusForSlurmState } from './states';
import { refreshSlurmStatus } from './status';

function job(over: Partial<ManifestJob>): ManifestJob {
  return {
    id: 'dose_1000-baseline-gs1',
    dose: 1000,
    view: 'baseline',
    gridsize: 1,
    train_data_path: '/c/train.npz',
    test_data_path: '/c/test.npz',
    artifact_dir: '/a/dose_1000/baseline/gs1',
    log_path: '/a/dose_1000/baseline/gs1/train.log',
    events_path: '/a/dose_1000/baseline/gs1/events.jsonl',
    status: 'queued',
    dry_run: false,
    run_id: 'r1',
    updated_at: '2026-01-01T00:00:00Z',
    skip_reason: null,
    missing_files: [],
    knobs: {},
    config: null,
    result: null,
    progress: null,
    worker: null,
    slurm: { job_id: '42', array_task_id: 0 },
    ...over,
  };
}

const task = (state: string, reason: string | null = null) => ({
  jobId: '42',
  arrayTaskId: 0,
  state,
  reason,
  node: 'n1',
});

describe('Slurm states on the manifest', () => {
  it('maps each Slurm state family onto the one status list', () => {
    expect(statusForSlurmState('PENDING')?.status).toBe('queued');
    expect(statusForSlurmState('RUNNING')?.status).toBe('running');
    expect(statusForSlurmState('CANCELLED by 0')?.status).toBe('cancelled');
    for (const s of ['FAILED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL'])
      expect(statusForSlurmState(s)).toMatchObject({ status: 'failed', reason: expect.stringContaining(s) });
  });

  it('a task Slurm killed for time becomes failed with the reason; a recorded outcome is never overwritten', () => {
    const running = job({
      status: 'running',
      progress: { step: 3, total_steps: 9, epoch: 1, total_epochs: 3, eta_s: 5, last_loss: 0.5 },
    });
    const timedOut = reconcile(running, task('TIMEOUT'), 'now');
    expect(timedOut.status).toBe('failed');
    expect(timedOut.result).toMatchObject({ status: 'failed', epochs_completed: 1, final_loss: 0.5 });
    expect(timedOut.result?.error).toContain('TIMEOUT');
    expect(timedOut.slurm).toMatchObject({ state: 'TIMEOUT', node: 'n1' });
    const done = job({ status: 'done' });
    expect(reconcile(done, task('CANCELLED'), 'now').status).toBe('done');
    expect(reconcile(job({}), task('PENDING', 'Priority'), 'now').status).toBe('queued');
    expect(reconcile(job({}), task('CANCELLED'), 'now').status).toBe('cancelled');
    expect(reconcile(job({ status: 'running' }), task('COMPLETED'), 'now').result?.error).toContain(
      'completed without recording an outcome',
    );
  });

  it('a queued Slurm job belongs to Slurm, except to the very task started for it', () => {
    expect(heldBySlurm(job({}), {})).toBe(true);
    expect(heldBySlurm(job({}), { SLURM_ARRAY_JOB_ID: '42', SLURM_ARRAY_TASK_ID: '0' })).toBe(false);
    expect(heldBySlurm(job({}), { SLURM_ARRAY_JOB_ID: '42', SLURM_ARRAY_TASK_ID: '1' })).toBe(true);
    expect(heldBySlurm(job({ status: 'running' }), {})).toBeNull();
  });

  it('reads squeue rows and falls back to sacct for tasks the controller forgot', () => {
    const calls: string[] = [];
    const run: RunCommand = (cmd) => {
      calls.push(cmd);
      if (cmd === 'squeue') return { code: 0, stdout: '42_0|RUNNING|None|n1\n42_1|PENDING|Priority|\n', stderr: '' };
      return { code: 0, stdout: '42_0|RUNNING|0:0|n1\n42_2|TIMEOUT|0:15|n2\n', stderr: '' };
    };
    expect(squeue(['42'], run)[1]).toEqual({
      jobId: '42',
      arrayTaskId: 1,
      state: 'PENDING',
      reason: 'Priority',
      node: null,
    });
    const all = slurmStates(['42'], run);
    expect(all.map((t) => `${t.arrayTaskId}:${t.state}`)).toEqual(['0:RUNNING', '1:PENDING', '2:TIMEOUT']);
    expect(all[2].reason).toBe('exit 0:15');
    expect(calls).toEqual(['squeue', 'squeue', 'sacct']);
  });
});

describe('the batch script', () => {
  it('has one task per job, the resources asked for, and the knobs as train flags', () => {
    const s = buildSlurmScript({
      runId: 'R',
      jobIds: ['a', 'b', 'c'],
      workdir: '/w d',
      outputDir: '/a/slurm',
      cli: ['/usr/bin/node', '/p/bin/ptycho-study.mjs'],
      roots: { phaseCRoot: '/c', phaseDRoot: '/d', artifactRoot: '/a' },
      knobs: { max_epochs: 3, deterministic: true, accelerator: 'cuda' },
      resources: {
        partition: 'gpu',
        time: '01:00:00',
        gres: 'gpu:1',
        cpusPerTask: 8,
        mem: '16G',
        maxParallel: 2,
        account: 'lab',
        extra: ['--qos=short', '#SBATCH --constraint=a100'],
      },
    });
    for (const line of [
      '#SBATCH --array=0-2%2',
      '#SBATCH --output=/a/slurm/R_%a.out',
      '#SBATCH --partition=gpu',
      '#SBATCH --account=lab',
      '#SBATCH --time=01:00:00',
      '#SBATCH --signal=B:TERM@120',
      '#SBATCH --cpus-per-task=8',
      '#SBATCH --mem=16G',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --qos=short',
      '#SBATCH --constraint=a100',
      'JOBS=(a b c)',
      "cd '/w d'",
    ])
      expect(s.split('\n')).toContain(line);
    expect(s).toContain('--job "$JOB" --max-epochs 3 --accelerator cuda --deterministic');
    // Every #SBATCH line comes before the first command, as sbatch requires.
    const lines = s.split('\n');
    const firstCommand = lines.findIndex((l) => l && !l.startsWith('#'));
    expect(lines.slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false);
  });

  it('quotes for the shell and refuses a multi-line extra', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(knobFlags({ resume: true, seed: 0 })).toEqual(['--seed', '0', '--resume']);
    expect(() =>
      buildSlurmScript({
        runId: 'R',
        jobIds: ['a'],
        workdir: '/',
        outputDir: '/o',
        cli: ['node'],
        roots: { phaseCRoot: '/c', phaseDRoot: '/d', artifactRoot: '/a' },
        knobs: {},
        resources: { extra: ['--qos=x\nrm -rf /'] },
      }),
    ).toThrow('one line');
  });
});

describe('slurm status against a controller that has forgotten a task', () => {
  it('records a job whose task ended without an outcome as failed, naming the task', async () => {
    const root = mkdtempSync(join(tmpdir(), 'slurm-forgot-'));
    try {
      mkdirSync(root, { recursive: true });
      const manifest = {
        schema_version: 1,
        timestamp: '2026-01-01T00:00:00Z',
        phase_c_root: '/c',
        phase_d_root: '/d',
        artifact_root: root,
        filters: { dose: null, view: null, gridsize: null },
        dry_run: false,
        knobs: {},
        design: { name: 'x', neighbor_count: 7, doses: [1000] },
        skipped_views: [],
        skipped_count: 0,
        skip_summary_path: 'skip_summary.json',
        jobs: [
          job({ status: 'running', worker: { pid: 1, hostname: 'node-7', run_id: 'r1' } }),
          job({
            id: 'dose_1000-dense-gs2',
            view: 'dense',
            gridsize: 2,
            status: 'done',
            slurm: { job_id: '41', array_task_id: 0, state: 'COMPLETED' },
          }),
        ],
        runs: [],
      };
      writeFileSync(join(root, 'training_manifest.json'), JSON.stringify(manifest));
      const asked: string[][] = [];
      const run: RunCommand = (cmd, args) => {
        asked.push([cmd, ...args]);
        return cmd === 'squeue'
          ? { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified' }
          : { code: 1, stdout: '', stderr: 'Slurm accounting storage is disabled' };
      };
      const { rows } = await refreshSlurmStatus(root, run);
      expect(rows.find((r) => r.id === 'dose_1000-baseline-gs1')).toMatchObject({
        status: 'failed',
        slurmState: 'UNKNOWN',
      });
      const saved = JSON.parse(readFileSync(join(root, 'training_manifest.json'), 'utf8'));
      expect(saved.jobs[0].result.error).toContain('Slurm task 42_0 ended without recording an outcome');
      // A job whose training recorded its outcome is left as it was.
      expect(saved.jobs[1].status).toBe('done');
      expect(asked[0]).toEqual(['squeue', '-h', '-r', '--states=all', '-j', '42', '-o', '%i|%T|%r|%N']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
