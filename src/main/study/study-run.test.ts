import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrainEvent } from '../../shared/events';
import { TrainingManifest } from '../../shared/manifest';
import { defaultStudyDesign, NO_FILTERS } from '../../shared/study';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import { checkTrainingJobs, filterJobs, planTrainingJobs, type StudyRoots } from './jobs';
import { readManifestFile } from './manifest-store';
import { recoverInterrupted } from './recover';
import type { TrainingRunner } from './runner';
import { type JobStateChange, StudyRun, type StudyRunRequest } from './study-run';

let dir: string;
let roots: StudyRoots;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'study-run-'));
  roots = createPlaceholderLayout(dir, { omit: [{ dose: 1000, view: 'sparse' }] });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function request(over: Partial<StudyRunRequest> & { dose?: number } = {}): StudyRunRequest {
  const filters = { ...NO_FILTERS, dose: over.dose ?? 1000 };
  const jobs = checkTrainingJobs(filterJobs(planTrainingJobs(roots), filters).jobs, { missingData: 'skip-phase-d' });
  return {
    roots,
    design: defaultStudyDesign(),
    jobs,
    filters,
    dryRun: false,
    knobs: { max_epochs: 1 },
    source: 'cli',
    runner: null,
    ...over,
  };
}

function manifest(): TrainingManifest {
  return TrainingManifest.parse(JSON.parse(readFileSync(join(roots.artifactRoot, 'training_manifest.json'), 'utf8')));
}

describe('a study run', () => {
  it('records the provider a job actually ran on as config.accelerator_used', async () => {
    const runner: TrainingRunner = async () => ({
      status: 'done',
      final_loss: 0.5,
      epochs_completed: 1,
      checkpoint_path: null,
      execution_provider: 'cpu',
    });
    await new StudyRun(request({ runner, knobs: { max_epochs: 1, accelerator: 'auto' } })).execute();
    const done = manifest().jobs.filter((j) => j.status === 'done');
    expect(done.length).toBeGreaterThan(0);
    for (const j of done) {
      expect(j.config?.training.accelerator).toBe('auto');
      expect(j.config?.accelerator_used).toBe('cpu');
    }
  });

  it('records a failing job and still runs the next one', async () => {
    const seen: string[] = [];
    const runner: TrainingRunner = async (_c, job, _l, ctx) => {
      expect(ctx.resume).toBe(true);
      seen.push(job.id);
      if (job.view === 'baseline') throw new Error('NaN in the diffraction data');
      return { status: 'done', final_loss: 0.5, epochs_completed: 1, checkpoint_path: null };
    };
    const run = new StudyRun(request({ runner, knobs: { max_epochs: 1, resume: true } }));
    const outcome = await run.execute();
    expect(run.cancel()).toEqual([]);
    expect(seen).toEqual(['dose_1000-baseline-gs1', 'dose_1000-dense-gs2']);
    expect(outcome.exitCode).toBe(1);
    const m = manifest();
    const byId = Object.fromEntries(m.jobs.map((j) => [j.id, j]));
    expect(byId['dose_1000-baseline-gs1'].status).toBe('failed');
    expect(byId['dose_1000-baseline-gs1'].result?.error).toBe('Error: NaN in the diffraction data');
    expect(byId['dose_1000-dense-gs2'].status).toBe('done');
    expect(byId['dose_1000-dense-gs2'].result?.final_loss).toBe(0.5);
    expect(byId['dose_1000-sparse-gs2'].status).toBe('skipped');
    expect(m.runs).toHaveLength(1);
    expect(m.runs[0]).toMatchObject({ status: 'failed', exit_code: 1, dry_run: false });
  });

  it('writes the seed manifest fields, the full config per job, absolute paths and skip_summary.json', async () => {
    const runner: TrainingRunner = async () => ({
      status: 'done',
      final_loss: 1.5,
      epochs_completed: 1,
      checkpoint_path: null,
    });
    await new StudyRun(request({ runner })).execute();
    const m = manifest();
    expect(m).toMatchObject({
      schema_version: 1,
      phase_c_root: roots.phaseCRoot,
      phase_d_root: roots.phaseDRoot,
      artifact_root: roots.artifactRoot,
      filters: { dose: 1000, view: null, gridsize: null },
      dry_run: false,
      knobs: { max_epochs: 1 },
      skipped_count: 1,
      skip_summary_path: 'skip_summary.json',
    });
    expect(m.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(m.skipped_views).toEqual([
      expect.objectContaining({ dose: 1000, view: 'sparse', reason: expect.stringContaining('sparse_train.npz') }),
    ]);
    const baseline = m.jobs[0];
    for (const p of [baseline.train_data_path, baseline.test_data_path, baseline.log_path, baseline.artifact_dir]) {
      expect(p.startsWith('/')).toBe(true);
    }
    expect(baseline.config?.training.nepochs).toBe(1);
    expect(baseline.config?.training.nphotons).toBe(1000);
    expect(baseline.config?.legacy['output_prefix']).toBe(baseline.artifact_dir);
    const skip = JSON.parse(readFileSync(join(roots.artifactRoot, 'skip_summary.json'), 'utf8'));
    expect(skip).toMatchObject({ skipped_count: 1, skipped_views: [expect.objectContaining({ view: 'sparse' })] });
  });

  it('keeps the manifest live: the running job is running and the next one queued while it trains', async () => {
    const snapshots: Record<string, string>[] = [];
    const runner: TrainingRunner = async () => {
      snapshots.push(Object.fromEntries(manifest().jobs.map((j) => [j.id, j.status])));
      return { status: 'done', final_loss: 1, epochs_completed: 1, checkpoint_path: null };
    };
    await new StudyRun(request({ runner })).execute();
    expect(snapshots[0]).toMatchObject({ 'dose_1000-baseline-gs1': 'running', 'dose_1000-dense-gs2': 'queued' });
    expect(snapshots[1]).toMatchObject({ 'dose_1000-baseline-gs1': 'done', 'dose_1000-dense-gs2': 'running' });
  });

  it('merges jobs by id across runs and keeps every run in runs[]', async () => {
    const runner: TrainingRunner = async (_c, job) => ({
      status: 'done',
      final_loss: job.dose,
      epochs_completed: 1,
      checkpoint_path: null,
    });
    await new StudyRun(request({ runner, dose: 1000 })).execute();
    await new StudyRun(request({ runner, dose: 10000, dryRun: true })).execute();
    let m = manifest();
    expect(m.jobs.map((j) => `${j.id}:${j.status}`)).toEqual([
      'dose_1000-baseline-gs1:done',
      'dose_1000-dense-gs2:done',
      'dose_1000-sparse-gs2:skipped',
      'dose_10000-baseline-gs1:planned',
      'dose_10000-dense-gs2:planned',
      'dose_10000-sparse-gs2:planned',
    ]);
    expect(m.dry_run).toBe(true);
    expect(m.filters.dose).toBe(10000);
    expect(m.runs.map((r) => [r.dry_run, r.status, r.job_ids.length])).toEqual([
      [false, 'done', 3],
      [true, 'done', 3],
    ]);
    // Re-running one job replaces its entry and leaves the others alone.
    const failing: TrainingRunner = async () => ({
      status: 'diverged',
      final_loss: null,
      epochs_completed: 0,
      checkpoint_path: null,
      error: 'loss became NaN at step 3',
    });
    const one = request({ runner: failing, dose: 1000 });
    one.jobs = one.jobs.slice(0, 1);
    await new StudyRun(one).execute();
    m = manifest();
    expect(m.jobs.find((j) => j.id === 'dose_1000-baseline-gs1')?.status).toBe('diverged');
    expect(m.jobs.find((j) => j.id === 'dose_1000-dense-gs2')?.status).toBe('done');
    expect(m.runs).toHaveLength(3);
  });

  it('a later dry run keeps the real outcome of a trained job and its log', async () => {
    const runner: TrainingRunner = async (_c, job) => {
      appendFileSync(job.logPath, 'epoch 1 train_loss=0.7\n');
      return { status: 'done', final_loss: 0.7, epochs_completed: 1, checkpoint_path: null };
    };
    const one = request({ runner });
    one.jobs = one.jobs.slice(0, 1);
    await new StudyRun(one).execute();
    const states: JobStateChange[] = [];
    const dry = request({ dryRun: true });
    await new StudyRun(dry, { onJobState: (s) => states.push(s) }).execute();
    const m = manifest();
    const baseline = m.jobs.find((j) => j.id === 'dose_1000-baseline-gs1');
    expect(baseline?.status).toBe('done');
    expect(baseline?.result?.final_loss).toBe(0.7);
    expect(baseline?.last_dry_run?.run_id).toBe(m.runs[1].run_id);
    expect(m.jobs.find((j) => j.id === 'dose_1000-dense-gs2')?.status).toBe('planned');
    expect(states.find((s) => s.jobId === 'dose_1000-baseline-gs1')?.status).toBe('done');
    const log = readFileSync(baseline?.log_path ?? '', 'utf8');
    expect(log).toContain('epoch 1 train_loss=0.7');
    expect(log).toContain('DRY RUN: baseline dose=1000 gridsize=1');
  });

  it('keeps fields other modules added to the manifest through later rewrites', async () => {
    await new StudyRun(request({ dryRun: true })).execute();
    const path = join(roots.artifactRoot, 'training_manifest.json');
    const raw = JSON.parse(readFileSync(path, 'utf8'));
    raw.comparison_path = 'comparison.json';
    raw.jobs[1].evaluation = { phase_ssim: 0.8 };
    raw.jobs[0].result.evaluation = { amp_mae: 0.03 };
    writeFileSync(path, JSON.stringify(raw));
    const other = request({ dryRun: true, dose: 10000 });
    await new StudyRun(other).execute();
    const after = JSON.parse(readFileSync(path, 'utf8'));
    expect(after.comparison_path).toBe('comparison.json');
    expect(after.jobs[1].evaluation).toEqual({ phase_ssim: 0.8 });
    expect(after.jobs[0].result.evaluation).toEqual({ amp_mae: 0.03 });
  });

  it('cancels the running job through its signal and never starts the queued ones', async () => {
    let started!: () => void;
    const startedP = new Promise<void>((r) => {
      started = r;
    });
    const runner: TrainingRunner = (_c, _j, _l, ctx) =>
      new Promise((resolve) => {
        started();
        ctx.signal.addEventListener('abort', () =>
          resolve({ status: 'cancelled', final_loss: 2, epochs_completed: 0, checkpoint_path: null }),
        );
      });
    const states: JobStateChange[] = [];
    const run = new StudyRun(request({ runner }), { onJobState: (s) => states.push(s) });
    const done = run.execute();
    await startedP;
    run.cancel();
    const outcome = await done;
    expect(outcome.exitCode).toBe(130);
    expect(outcome.jobs.map((j) => j.status)).toEqual(['cancelled', 'cancelled', 'skipped']);
    expect(manifest().runs[0].status).toBe('cancelled');
    // each cancelled job's state says so: the running one where it was, the queued one before training
    const cancelled = (id: string) => states.find((s) => s.jobId === id && s.status === 'cancelled');
    expect(cancelled(outcome.jobs[0].id)).toMatchObject({
      stop: { status: 'cancelled', summary: 'cancelled at epoch 1' },
      resumable: false,
    });
    expect(cancelled(outcome.jobs[1].id)?.stop).toMatchObject({ summary: 'cancelled', epoch: null });
  });

  it('forwards training events in batches and records progress', async () => {
    const batches: TrainEvent[][] = [];
    const states: JobStateChange[] = [];
    const time = new Date().toISOString();
    const runner: TrainingRunner = async (_c, _j, _l, ctx) => {
      ctx.onEvent({ type: 'progress', time, step: 1, total_steps: 4, epoch: 0, total_epochs: 2, eta_s: 3 });
      for (let step = 1; step <= 4; step++)
        ctx.onEvent({ type: 'step', time, step, epoch: 0, loss: 1 / step, samples_per_s: 10 });
      return { status: 'done', final_loss: 0.25, epochs_completed: 2, checkpoint_path: null };
    };
    const r = request({ runner });
    r.jobs = r.jobs.slice(0, 1);
    await new StudyRun(r, {
      onTrainEvents: (_id, events) => batches.push(events),
      onJobState: (s) => states.push(s),
    }).execute();
    expect(batches.flat()).toHaveLength(5);
    expect(batches.length).toBeLessThan(5);
    expect(states.map((s) => s.status)).toContain('running');
    expect(states.at(-1)).toMatchObject({ status: 'done', finalLoss: 0.25, index: 1, total: 1 });
    const job = manifest().jobs[0];
    expect(job.progress).toMatchObject({ step: 4, total_steps: 4, total_epochs: 2, last_loss: 0.25 });
    expect(job.worker).toBeNull();
  });

  it('refuses to start a job that a live run is training', async () => {
    let release!: () => void;
    let started!: () => void;
    const startedP = new Promise<void>((r) => {
      started = r;
    });
    const runner: TrainingRunner = (_c, job) =>
      new Promise((resolve) => {
        const result = { status: 'done' as const, final_loss: 1, epochs_completed: 1, checkpoint_path: null };
        if (job.view !== 'baseline') return resolve(result);
        started();
        release = () => resolve(result);
      });
    const first = new StudyRun(request({ runner }));
    const done = first.execute();
    await startedP;
    await expect(new StudyRun(request({ runner })).begin()).rejects.toThrow(/already running/);
    release();
    await done;
  });

  it('treats a run that started before the machine booted as gone, even if its pid is in use now', async () => {
    await new StudyRun(request({ dryRun: true })).execute();
    const m = manifest();
    const livePid = process.ppid; // alive, but not the process that started this old run
    const stale = {
      ...m,
      jobs: m.jobs.map((j, i) => (i === 0 ? { ...j, status: 'running' as const, run_id: 'old' } : j)),
      runs: [
        ...m.runs,
        {
          ...m.runs[0],
          run_id: 'old',
          pid: livePid,
          started_at: '2001-01-01T00:00:00.000Z',
          status: 'running' as const,
        },
      ],
    };
    writeFileSync(join(roots.artifactRoot, 'training_manifest.json'), JSON.stringify(stale));
    expect(await recoverInterrupted(roots.artifactRoot)).toEqual(['dose_1000-baseline-gs1']);
  });

  it('marks a running job whose process is gone as interrupted', async () => {
    await new StudyRun(request({ dryRun: true })).execute();
    const m = manifest();
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max default range: no such process
    const stale = {
      ...m,
      jobs: m.jobs.map((j, i) =>
        i === 0
          ? { ...j, status: 'running' as const, worker: { pid: deadPid, hostname: m.runs[0].hostname, run_id: 'x' } }
          : j,
      ),
      runs: [...m.runs, { ...m.runs[0], run_id: 'x', pid: deadPid, status: 'running' as const, exit_code: null }],
    };
    writeFileSync(join(roots.artifactRoot, 'training_manifest.json'), JSON.stringify(stale));
    writeFileSync(join(roots.artifactRoot, `.training_manifest.json.${deadPid}.1.tmp`), '{"half":');
    expect(await recoverInterrupted(roots.artifactRoot)).toEqual(['dose_1000-baseline-gs1']);
    const after = manifest();
    expect(after.jobs[0].status).toBe('interrupted');
    expect(after.jobs[0].result?.error).toMatch(/is gone/);
    expect(after.runs.find((r) => r.run_id === 'x')?.status).toBe('interrupted');
    expect(existsSync(join(roots.artifactRoot, 'training_manifest.json.lock'))).toBe(false);
    expect(existsSync(join(roots.artifactRoot, `.training_manifest.json.${deadPid}.1.tmp`))).toBe(false);
    expect(readManifestFile(roots.artifactRoot).raw).toContain('"interrupted"');
  });
});
