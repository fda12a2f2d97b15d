/**
 * Fault 5, the manifest half: a job whose run's process is gone but whose training worker
 * still lives (recorded as `worker.trainer_pid`) is neither marked interrupted nor started
 * a second time; once that worker has stopped, the next recovery marks it interrupted and
 * a new run may take it. A long-lived child process stands in for the orphaned worker.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StudyError } from '../../src/shared/errors';
import { TrainingManifest } from '../../src/shared/manifest';
import { defaultStudyDesign, NO_FILTERS } from '../../src/shared/study';
import { createPlaceholderLayout } from '../fixtures/fixture-layout';
import { checkTrainingJobs, planTrainingJobs, type StudyRoots } from '../../src/main/study/jobs';
import { updateManifest } from '../../src/main/study/manifest-store';
import { recoverInterrupted } from '../../src/main/study/recover';
import type { TrainingRunner } from '../../src/main/study/runner';
import { StudyRun } from '../../src/main/study/study-run';

const JOB = 'dose_1000-baseline-gs1';
let dir: string;
let roots: StudyRoots;
let stand_in: ChildProcess | null = null;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fault-orphan-trainer-'));
  roots = createPlaceholderLayout(dir);
});
afterEach(() => {
  if (stand_in && stand_in.exitCode === null) stand_in.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function newRun(runner: TrainingRunner | null): StudyRun {
  const jobs = checkTrainingJobs(planTrainingJobs(roots, defaultStudyDesign()).filter((j) => j.id === JOB));
  return new StudyRun({
    roots,
    design: defaultStudyDesign(),
    jobs,
    filters: NO_FILTERS,
    dryRun: false,
    knobs: {},
    source: 'cli',
    runner,
  });
}

const manifest = () =>
  TrainingManifest.parse(JSON.parse(readFileSync(join(roots.artifactRoot, 'training_manifest.json'), 'utf8')));

/** A pid that certainly belongs to no process any more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('a trainer that outlived its parent', () => {
  it('keeps its job running and refuses a second trainer until it has stopped; then the job is interrupted', async () => {
    // Named like the real worker (out/node/trainer.js): recovery checks the command line.
    const script = join(dir, 'trainer.js');
    writeFileSync(script, 'setInterval(() => {}, 1000);');
    stand_in = spawn(process.execPath, [script], { stdio: 'ignore' });
    const trainerPid = stand_in.pid as number;
    let release: () => void = () => {};
    const runner: TrainingRunner = (_c, _j, _l, ctx) => {
      ctx.onWorkerStarted?.(trainerPid);
      return new Promise((resolve) => {
        release = () => resolve({ status: 'cancelled', final_loss: null, epochs_completed: 0, checkpoint_path: null });
      });
    };
    const first = newRun(runner);
    const done = first.execute();
    const deadline = Date.now() + 10_000;
    const recorded = () => {
      try {
        return manifest().jobs[0]?.worker?.trainer_pid === trainerPid;
      } catch {
        return false; // not written yet
      }
    };
    while (!recorded() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(manifest().jobs[0]).toMatchObject({
      status: 'running',
      worker: { pid: process.pid, trainer_pid: trainerPid },
    });

    // The process that ran the study dies (kill -9): its pid in the manifest no longer answers.
    const gone = deadPid();
    await updateManifest(roots.artifactRoot, (m) =>
      m
        ? {
            ...m,
            jobs: m.jobs.map((j) => (j.worker ? { ...j, worker: { ...j.worker, pid: gone } } : j)),
            runs: m.runs.map((r) => ({ ...r, pid: gone })),
          }
        : null,
    );

    expect(await recoverInterrupted(roots.artifactRoot)).toEqual([]);
    expect(manifest().jobs[0].status).toBe('running');
    expect(manifest().runs[0].status).toBe('running');
    const err = await newRun(async () => {
      throw new Error('a second trainer must not start');
    })
      .begin()
      .then(
        () => null,
        (e: unknown) => (e instanceof StudyError ? e.toLine() : String(e)),
      );
    expect(err).toMatch(new RegExp(`job ${JOB} is already running`));
    expect(err).toContain(`its trainer (pid ${trainerPid}`);
    expect(err).toContain(`the process that started it (pid ${gone}) is gone`);

    // The orphan stops (as the parent watch makes it do); now the job is interrupted and may run again.
    const exited = new Promise((r) => stand_in?.once('exit', r));
    stand_in.kill('SIGKILL');
    await exited;
    expect(await recoverInterrupted(roots.artifactRoot)).toEqual([JOB]);
    expect(manifest().jobs[0].status).toBe('interrupted');
    expect(manifest().jobs[0].result?.error).toContain(`trainer pid ${trainerPid}`);
    expect(manifest().runs[0].status).toBe('interrupted');
    await expect(newRun(null).begin()).resolves.toBeUndefined();

    release();
    await done;
  });

  it('a recorded trainer pid now owned by an unrelated process does not keep the job running', async () => {
    // pid reuse: the pid answers, but /proc says it is not a training worker
    stand_in = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const other = stand_in.pid as number;
    let release: () => void = () => {};
    const done = newRun((_c, _j, _l, ctx) => {
      ctx.onWorkerStarted?.(other);
      return new Promise((resolve) => {
        release = () => resolve({ status: 'cancelled', final_loss: null, epochs_completed: 0, checkpoint_path: null });
      });
    }).execute();
    const deadline = Date.now() + 10_000;
    const recorded = () => {
      try {
        return manifest().jobs[0]?.worker?.trainer_pid === other;
      } catch {
        return false;
      }
    };
    while (!recorded() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const gone = deadPid();
    await updateManifest(roots.artifactRoot, (m) =>
      m
        ? {
            ...m,
            jobs: m.jobs.map((j) => (j.worker ? { ...j, worker: { ...j.worker, pid: gone } } : j)),
            runs: m.runs.map((r) => ({ ...r, pid: gone })),
          }
        : null,
    );
    const onLinux = process.platform === 'linux';
    expect(await recoverInterrupted(roots.artifactRoot)).toEqual(onLinux ? [JOB] : []);
    release();
    await done;
  });
});
