/**
 * The study on a real Slurm (one node, started here): a 3-task array of tiny trainings runs
 * to completion through `slurm submit` / `slurm status`, the manifest records every job done
 * with its Slurm task, `evaluate` scores them; a queued task is cancelled with `slurm cancel`;
 * the `--dry-run` script passes `sbatch --test-only`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingManifest } from '../../src/shared/manifest';
import { cliBin, ensureBuilt, runCliSync } from '../helpers/cli';
import { type LocalSlurm, startLocalSlurm } from '../helpers/slurm';

let slurm: LocalSlurm | null = null;
let skipReason: string | null = null;
let dir: string;

/** Generous beside the ~1 minute this file takes alone: the whole suite shares two cores. */
const TIMEOUT = 300_000;

beforeAll(() => {
  const started = startLocalSlurm();
  slurm = started.slurm;
  skipReason = started.reason;
  if (!slurm) {
    console.warn(`Slurm tests skipped: ${skipReason}`);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'slurm-study-'));
  const cli = (args: string[]) => runCliSync(args, { cwd: dir });
  // A small study: one dose, three views, N = 64 with few positions.
  let r = cli(['simulate', '--out', 'phase_c', '--preset', 'demo', '--doses', '1e3', '--n-positions', '200']);
  expect(r.code, r.stderr).toBe(0);
  r = cli(['overlap', '--phase-c-root', 'phase_c', '--out', 'phase_d']);
  expect(r.code, r.stderr).toBe(0);
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ doses: [1000], model_overrides: { n_filters_scale: 1 } }));
}, TIMEOUT);

afterAll(() => {
  slurm?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tiny = [
  '--phase-c-root',
  'phase_c',
  '--phase-d-root',
  'phase_d',
  '--artifact-root',
  'artifacts',
  '--study',
  'study.json',
  '--max-epochs',
  '1',
  '--n-groups',
  '8',
  '--batch-size',
  '8',
  '--accelerator',
  'cpu',
  '--deterministic',
];

function ptycho(args: string[]) {
  return runCliSync(args, { cwd: dir, env: slurm?.env });
}

/** For `status --wait`: longer than runCliSync's limit, which a loaded machine could reach. */
function ptychoLong(args: string[]) {
  ensureBuilt();
  const r = spawnSync(process.execPath, [cliBin, ...args], {
    cwd: dir,
    env: { ...process.env, ...slurm?.env },
    encoding: 'utf8',
    timeout: TIMEOUT - 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function manifest(): TrainingManifest {
  return TrainingManifest.parse(JSON.parse(readFileSync(join(dir, 'artifacts', 'training_manifest.json'), 'utf8')));
}

describe('the study on a one-node Slurm', () => {
  it('slurm submit --dry-run prints a batch script that sbatch --test-only accepts', (ctx) => {
    if (!slurm) return ctx.skip(`Slurm cannot start here: ${skipReason}`);
    const r = ptycho(['slurm', 'submit', ...tiny, '--max-parallel', '2', '--time', '00:10:00', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^#!\/bin\/bash\n#SBATCH --job-name=ptycho-study\n#SBATCH --array=0-2%2\n/);
    expect(r.stdout).toContain('#SBATCH --time=00:10:00');
    expect(r.stdout).toContain('train --phase-c-root');
    expect(r.stderr).toContain('dose_1000-baseline-gs1: will run: never trained');
    expect(existsSync(join(dir, 'artifacts', 'training_manifest.json'))).toBe(false);
    const script = join(dir, 'dry.sbatch');
    writeFileSync(script, r.stdout);
    const test = spawnSync('sbatch', ['--test-only', script], {
      env: { ...process.env, ...slurm.env },
      encoding: 'utf8',
    });
    expect(test.status, test.stderr).toBe(0);
    expect(test.stderr).toMatch(/sbatch: Job \d+ to start at .* on nodes/);
    const viaCli = ptycho(['slurm', 'submit', ...tiny, '--test-only']);
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(viaCli.stdout).toMatch(/Job \d+ to start at .* on nodes/);
    expect(existsSync(join(dir, 'artifacts', 'training_manifest.json'))).toBe(false);
  });

  it(
    'a 3-task array trains every job; status waits for it; the manifest records the Slurm ids; evaluate scores them',
    (ctx) => {
      if (!slurm) return ctx.skip(`Slurm cannot start here: ${skipReason}`);
      const started = Date.now();
      const sub = ptycho(['slurm', 'submit', ...tiny, '--max-parallel', '2', '--cpus-per-task', '1']);
      expect(sub.code, sub.stderr).toBe(0);
      const id = /Submitted Slurm job (\d+): 3 array task\(s\)/.exec(sub.stdout)?.[1];
      expect(id, sub.stdout).toBeDefined();
      const queued = manifest();
      expect(queued.jobs.map((j) => [j.status, j.slurm?.job_id, j.slurm?.array_task_id])).toEqual([
        ['queued', id, 0],
        ['queued', id, 1],
        ['queued', id, 2],
      ]);

      const status = ptychoLong([
        'slurm',
        'status',
        '--artifact-root',
        'artifacts',
        '--wait',
        '--timeout',
        '240',
        '--interval',
        '1',
      ]);
      expect(status.code, `${status.stdout}\n${status.stderr}`).toBe(0);
      for (const t of [0, 1, 2]) expect(status.stdout).toMatch(new RegExp(`done\\s+${id}_${t}\\s+COMPLETED`));
      const m = manifest();
      expect(m.jobs.map((j) => j.status)).toEqual(['done', 'done', 'done']);
      for (const [i, j] of m.jobs.entries()) {
        expect(j.slurm).toMatchObject({ job_id: id, array_task_id: i, state: 'COMPLETED' });
        expect(j.fingerprint?.config['training.nepochs']).toBe(1);
        expect(j.result?.model_path && existsSync(j.result.model_path)).toBe(true);
      }
      const run = m.runs.find((r) => r.slurm?.job_id === id && r.slurm?.script);
      expect(run).toMatchObject({ status: 'done', exit_code: 0, job_ids: m.jobs.map((j) => j.id) });
      // Each array task's own `train` run records its task too.
      const taskRuns = m.runs.filter((r) => r.slurm?.job_id === id && !r.slurm?.script);
      expect(taskRuns.map((r) => [r.slurm?.array_task_id, r.job_ids, r.status]).sort()).toEqual(
        m.jobs.map((j, i) => [i, [j.id], 'done']),
      );
      console.log(`Slurm array of 3 tiny trainings: ${((Date.now() - started) / 1000).toFixed(1)} s`);

      const again = ptycho(['slurm', 'submit', ...tiny]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('Nothing to submit: 3 job(s) up to date');

      const ev = ptycho(['evaluate', '--artifact-root', 'artifacts']);
      expect(ev.code, ev.stderr).toBe(0);
      expect(ev.stdout).toContain('3 of 3 jobs scored');
      for (const j of m.jobs) expect(existsSync(join(j.artifact_dir, 'eval.json'))).toBe(true);
    },
    TIMEOUT,
  );

  it('slurm cancel cancels a queued task and the manifest says cancelled', (ctx) => {
    if (!slurm) return ctx.skip(`Slurm cannot start here: ${skipReason}`);
    // Held back an hour by Slurm, so the task is certainly still queued when it is cancelled.
    const sub = ptycho([
      'slurm',
      'submit',
      ...tiny,
      '--job',
      'dose_1000-sparse-gs2',
      '--force',
      '--extra',
      '--begin=now+1hour',
    ]);
    expect(sub.code, sub.stderr).toBe(0);
    const id = /Submitted Slurm job (\d+): 1 array task/.exec(sub.stdout)?.[1];
    expect(id, sub.stdout).toBeDefined();
    const pending = ptycho(['slurm', 'status', '--artifact-root', 'artifacts']);
    expect(pending.stdout).toMatch(new RegExp(`dose_1000-sparse-gs2\\s+queued\\s+${id}_0\\s+PENDING`));

    // While Slurm holds it, neither a local train nor a second submit starts it.
    const local = ptycho(['train', ...tiny, '--job', 'dose_1000-sparse-gs2', '--force']);
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('LOCKED: job dose_1000-sparse-gs2 is already queued');
    const twice = ptycho(['slurm', 'submit', ...tiny, '--job', 'dose_1000-sparse-gs2', '--force']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`Slurm job ${id}_0`);

    const cancel = ptycho(['slurm', 'cancel', '--artifact-root', 'artifacts', '--job', 'dose_1000-sparse-gs2']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`scancel ${id}_0`);
    const after = ptycho(['slurm', 'status', '--artifact-root', 'artifacts']);
    expect(after.stdout).toMatch(new RegExp(`dose_1000-sparse-gs2\\s+cancelled\\s+${id}_0\\s+CANCELLED`));
    const job = manifest().jobs.find((j) => j.id === 'dose_1000-sparse-gs2');
    expect(job?.status).toBe('cancelled');
    expect(job?.slurm?.job_id).toBe(id);
    const sq = spawnSync('squeue', ['-h', '-j', `${id}`, '--states=all', '-o', '%T'], {
      env: { ...process.env, ...slurm.env },
      encoding: 'utf8',
    });
    expect(sq.stdout.trim()).toBe('CANCELLED');
    // The other jobs keep their trained outcome.
    expect(manifest().jobs.filter((j) => j.status === 'done')).toHaveLength(2);
  });

  it(
    'slurm cancel stops a running task: its training records cancelled with a checkpoint',
    async (ctx) => {
      if (!slurm) return ctx.skip(`Slurm cannot start here: ${skipReason}`);
      const long = tiny.map((a, i) => (tiny[i - 1] === '--max-epochs' ? '200' : a));
      const sub = ptycho(['slurm', 'submit', ...long, '--job', 'dose_1000-dense-gs2', '--force']);
      expect(sub.code, sub.stderr).toBe(0);
      const id = /Submitted Slurm job (\d+)/.exec(sub.stdout)?.[1];
      const job = () => manifest().jobs.find((j) => j.id === 'dose_1000-dense-gs2');
      const t0 = Date.now();
      while (!(job()?.status === 'running' && (job()?.progress?.epoch ?? 0) >= 1)) {
        if (Date.now() - t0 > 60_000) throw new Error(`task never ran: ${JSON.stringify(job())}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      const cancel = ptycho(['slurm', 'cancel', '--artifact-root', 'artifacts']);
      expect(cancel.stdout).toContain(`scancel ${id}_0`);
      const status = ptychoLong(['slurm', 'status', '--artifact-root', 'artifacts', '--wait', '--timeout', '60']);
      expect(status.stdout).toMatch(new RegExp(`dose_1000-dense-gs2\\s+cancelled\\s+${id}_0`));
      expect(job()?.status).toBe('cancelled');
      expect(job()?.result?.checkpoint_path, JSON.stringify(job())).toBeTruthy();
    },
    TIMEOUT,
  );
});
