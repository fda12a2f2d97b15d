import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedJobConfig } from '../../shared/config';
import { defaultStudyDesign } from '../../shared/study';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import { buildTrainingJobs, type StudyRoots, type TrainingJob } from './jobs';
import { resolveJobConfig } from './resolve-config';
import { runTrainingJob } from './run-job';
import type { RunnerContext, TrainingRunner } from './runner';

let dir: string;
let roots: StudyRoots;
let jobs: TrainingJob[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'study-run-job-'));
  roots = createPlaceholderLayout(dir);
  jobs = buildTrainingJobs(roots.phaseCRoot, roots.phaseDRoot, roots.artifactRoot);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('runTrainingJob', () => {
  it('calls the runner once with the bridged config, the job and the log path, and returns its result', async () => {
    const calls: { config: ResolvedJobConfig; job: TrainingJob; logPath: string; ctx: RunnerContext }[] = [];
    const runner: TrainingRunner = async (config, job, logPath, ctx) => {
      calls.push({ config, job, logPath, ctx });
      return { status: 'done', final_loss: 0.25, epochs_completed: 2, checkpoint_path: null, extra: 'kept' };
    };
    const job = jobs[4]; // dose 1e4, dense, gs2
    const result = await runTrainingJob(job, runner, {
      knobs: { max_epochs: 2, n_groups: 32, batch_size: 4, accelerator: 'cpu', seed: 9 },
    });
    expect(calls).toHaveLength(1);
    const { config, logPath } = calls[0];
    expect(calls[0].job).toBe(job);
    expect(logPath).toBe(job.logPath);
    expect(config.model.gridsize).toBe(2);
    expect(config.model.N).toBe(64);
    expect(config.training).toMatchObject({
      train_data_file: job.trainDataPath,
      test_data_file: job.testDataPath,
      output_dir: job.artifactDir,
      nphotons: 10000,
      neighbor_count: 7,
      nepochs: 2,
      n_groups: 32,
      batch_size: 4,
      accelerator: 'cpu',
      seed: 9,
      grouping_seed: 123,
    });
    expect(config.legacy).toMatchObject({
      train_data_file_path: job.trainDataPath,
      test_data_file_path: job.testDataPath,
      output_prefix: job.artifactDir,
      gridsize: 2,
      nphotons: 10000,
      'probe.big': true,
    });
    expect(result).toMatchObject({ status: 'done', final_loss: 0.25, epochs_completed: 2, extra: 'kept' });
    expect(typeof result.duration_s).toBe('number');
    const log = readFileSync(job.logPath, 'utf8');
    expect(log).toContain('Resolved config:');
    expect(log).toContain('"nphotons":10000');
  });

  it('dry run writes the DRY RUN marker and the planned call, returns the summary, never calls the runner', async () => {
    const runner: TrainingRunner = () => {
      throw new Error('the runner must not be called in a dry run');
    };
    const job = jobs[0];
    const summary = await runTrainingJob(job, runner, { dryRun: true });
    expect(summary).toEqual({
      dose: 1000,
      view: 'baseline',
      gridsize: 1,
      train_data_path: job.trainDataPath,
      test_data_path: job.testDataPath,
      log_path: job.logPath,
      artifact_dir: job.artifactDir,
      dry_run: true,
    });
    const log = readFileSync(job.logPath, 'utf8').split('\n');
    expect(log[0]).toBe('DRY RUN: baseline dose=1000 gridsize=1');
    expect(log[1]).toBe(`Train: ${job.trainDataPath}`);
    expect(log[2]).toBe(`Test: ${job.testDataPath}`);
    expect(log[3]).toContain('not executed');
  });

  it('turns a runner that throws into a failed result, written to the log', async () => {
    const runner: TrainingRunner = async () => {
      throw new RangeError('diffraction has 3 dimensions, expected (M, N, N)');
    };
    const result = await runTrainingJob(jobs[0], runner);
    expect(result.status).toBe('failed');
    expect(result.error).toBe('RangeError: diffraction has 3 dimensions, expected (M, N, N)');
    expect(readFileSync(jobs[0].logPath, 'utf8')).toContain('ERROR: RangeError: diffraction has 3 dimensions');
  });

  it('fails with RUNNER_MISSING when no runner is registered', async () => {
    const result = await runTrainingJob(jobs[0], null);
    expect(result.status).toBe('failed');
    expect(result['error_code']).toBe('RUNNER_MISSING');
    expect(result.error).toMatch(/no PtychoPINN training runner is registered/);
  });

  it('refuses a runner answer without a known status', async () => {
    const runner = (async () => ({ status: 'stub_complete' })) as unknown as TrainingRunner;
    const result = await runTrainingJob(jobs[0], runner);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/invalid result.*stub_complete/);
  });

  it('names the field when a study override has the wrong type', () => {
    const design = { ...defaultStudyDesign(), training_overrides: { batch_size: 'sixteen' } };
    expect(() => resolveJobConfig(jobs[0], design)).toThrow(/batch_size/);
  });
});
