import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StudyError } from '../../shared/errors';
import { defaultStudyDesign, mergeStudyDesign, NO_FILTERS, StudyDesign } from '../../shared/study';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import { buildTrainingJobs, checkTrainingJobs, filterJobs, planTrainingJobs, skippedViews } from './jobs';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'study-jobs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the Phase E job matrix', () => {
  it('has nine jobs in study order with the seed layout paths and the view → gridsize mapping', () => {
    const roots = createPlaceholderLayout(dir);
    const jobs = buildTrainingJobs(roots.phaseCRoot, roots.phaseDRoot, roots.artifactRoot);
    expect(jobs.map((j) => j.id)).toEqual([
      'dose_1000-baseline-gs1',
      'dose_1000-dense-gs2',
      'dose_1000-sparse-gs2',
      'dose_10000-baseline-gs1',
      'dose_10000-dense-gs2',
      'dose_10000-sparse-gs2',
      'dose_100000-baseline-gs1',
      'dose_100000-dense-gs2',
      'dose_100000-sparse-gs2',
    ]);
    for (const j of jobs) {
      expect(j.gridsize).toBe(j.view === 'baseline' ? 1 : 2);
      const d = `dose_${j.dose}`;
      if (j.view === 'baseline') {
        expect(j.trainDataPath).toBe(join(dir, 'phase_c', d, 'patched_train.npz'));
        expect(j.testDataPath).toBe(join(dir, 'phase_c', d, 'patched_test.npz'));
      } else {
        expect(j.trainDataPath).toBe(join(dir, 'phase_d', d, j.view, `${j.view}_train.npz`));
        expect(j.testDataPath).toBe(join(dir, 'phase_d', d, j.view, `${j.view}_test.npz`));
      }
      expect(j.artifactDir).toBe(join(dir, 'artifacts', d, j.view, `gs${j.gridsize}`));
      expect(j.logPath).toBe(join(j.artifactDir, 'train.log'));
      expect(j.eventsPath).toBe(join(j.artifactDir, 'events.jsonl'));
      expect(j.skipReason).toBeNull();
    }
  });

  it('is strict by default: a missing dataset is an error naming the file', () => {
    const roots = createPlaceholderLayout(dir, { omit: [{ dose: 10000, view: 'dense' }] });
    let err: unknown;
    try {
      buildTrainingJobs(roots.phaseCRoot, roots.phaseDRoot, roots.artifactRoot);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StudyError);
    const missing = join(dir, 'phase_d', 'dose_10000', 'dense', 'dense_train.npz');
    expect((err as StudyError).message).toBe(`Training dataset not found: ${missing}`);
    expect((err as StudyError).details.file).toBe(missing);
  });

  it('with allow-missing-phase-d turns absent overlap views into skipped jobs with a reason', () => {
    const roots = createPlaceholderLayout(dir, { omit: [{ dose: 1000, view: 'sparse' }] });
    const jobs = buildTrainingJobs(roots.phaseCRoot, roots.phaseDRoot, roots.artifactRoot, undefined, {
      missingData: 'skip-phase-d',
    });
    expect(jobs).toHaveLength(9);
    const skipped = skippedViews(jobs);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ dose: 1000, view: 'sparse' });
    expect(skipped[0].reason).toContain('sparse_train.npz');
    expect(skipped[0].missing_files).toEqual([
      join(dir, 'phase_d', 'dose_1000', 'sparse', 'sparse_train.npz'),
      join(dir, 'phase_d', 'dose_1000', 'sparse', 'sparse_test.npz'),
    ]);
  });

  it('still refuses missing Phase C data under allow-missing-phase-d', () => {
    const roots = createPlaceholderLayout(dir);
    rmSync(join(roots.phaseCRoot, 'dose_1000', 'patched_test.npz'));
    expect(() =>
      buildTrainingJobs(roots.phaseCRoot, roots.phaseDRoot, roots.artifactRoot, undefined, {
        missingData: 'skip-phase-d',
      }),
    ).toThrow(/Test dataset not found: .*patched_test\.npz/);
  });

  it('checks only the jobs that survive the filters', () => {
    const roots = createPlaceholderLayout(dir, { omit: [{ dose: 10000, view: 'baseline' }] });
    const { jobs } = filterJobs(planTrainingJobs(roots), { dose: 1000, view: null, gridsize: null });
    expect(checkTrainingJobs(jobs)).toHaveLength(3);
  });

  it('accepts the later overlap CLI names train.npz / test.npz inside the view folder', () => {
    const roots = createPlaceholderLayout(dir, { omit: [{ dose: 1000, view: 'dense' }] });
    const viewDir = join(roots.phaseDRoot, 'dose_1000', 'dense');
    mkdirSync(viewDir, { recursive: true });
    writeFileSync(join(viewDir, 'train.npz'), '');
    writeFileSync(join(viewDir, 'test.npz'), '');
    const dense = buildTrainingJobs(roots.phaseCRoot, roots.phaseDRoot, roots.artifactRoot)[1];
    expect(dense.trainDataPath).toBe(join(viewDir, 'train.npz'));
  });

  it('filters like the CLI: none 9, dose 3, view 3, gridsize 2 → 6, combined 1', () => {
    const jobs = planTrainingJobs({ phaseCRoot: 'c', phaseDRoot: 'd', artifactRoot: 'a' });
    expect(filterJobs(jobs, NO_FILTERS).jobs).toHaveLength(9);
    expect(filterJobs(jobs, { dose: 1000, view: null, gridsize: null }).jobs).toHaveLength(3);
    expect(filterJobs(jobs, { dose: null, view: 'baseline', gridsize: null }).jobs).toHaveLength(3);
    expect(filterJobs(jobs, { dose: null, view: null, gridsize: 1 }).jobs).toHaveLength(3);
    expect(filterJobs(jobs, { dose: null, view: null, gridsize: 2 }).jobs).toHaveLength(6);
    const combined = filterJobs(jobs, { dose: 10000, view: 'dense', gridsize: 2 });
    expect(combined.jobs.map((j) => j.id)).toEqual(['dose_10000-dense-gs2']);
    expect(combined.steps.map((s) => s.remaining)).toEqual([3, 1, 1]);
  });

  it('takes its constants from the design, which a study file can override', () => {
    const design = mergeStudyDesign(defaultStudyDesign(), { doses: [500], seeds: { training: 7 } });
    expect(design.seeds).toEqual({ simulation: 42, grouping: 123, subsampling: 456, training: 7 });
    const jobs = planTrainingJobs({ phaseCRoot: 'c', phaseDRoot: 'd', artifactRoot: 'a' }, design);
    expect(jobs.map((j) => j.id)).toEqual(['dose_500-baseline-gs1', 'dose_500-dense-gs2', 'dose_500-sparse-gs2']);
    expect(() => mergeStudyDesign(defaultStudyDesign(), { neighbor_count: 3 })).toThrow(/neighbor_count 3 < gridsize²/);
    expect(
      StudyDesign.safeParse({
        ...defaultStudyDesign(),
        views: [{ name: 'dense', gridsize: 1, source: 'phase_d', overlap_fraction: 0.7 }],
      }).success,
    ).toBe(false);
  });
});
