import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import { isStudyError } from '../../shared/errors';
import { defaultStudyDesign, NO_FILTERS } from '../../shared/study';
import type { StudyRoots } from './jobs';
import { planStudyJobs } from './plan';

let dir: string;
let roots: StudyRoots;
const design = defaultStudyDesign();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plan-'));
  // dose 1000 has no sparse view and no baseline data
  roots = createPlaceholderLayout(dir, {
    omit: [
      { dose: 1000, view: 'sparse' },
      { dose: 1000, view: 'baseline' },
    ],
  });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('planStudyJobs, the one front door for choosing jobs', () => {
  it('counts after each filter and after the job ids, in the order the CLI prints them', () => {
    const seen: string[] = [];
    const plan = planStudyJobs({
      roots,
      design,
      filters: { dose: 10000, view: null, gridsize: 2 },
      jobIds: ['dose_10000-dense-gs2'],
      missingData: 'refuse',
      onPlanned: (p) =>
        seen.push(`${p.all.length} then ${p.steps.map((s) => `${s.filter}=${s.value}:${s.remaining}`)}`),
    });
    expect(seen).toEqual(['9 then dose=10000:3,gridsize=2:2,job=dose_10000-dense-gs2:1']);
    expect(plan.jobs.map((j) => j.id)).toEqual(['dose_10000-dense-gs2']);
  });

  it('an unknown job id is refused with the valid ids, or matches nothing when the caller says so', () => {
    const ask = (unknownJobIds: 'refuse' | 'ignore') =>
      planStudyJobs({ roots, design, jobIds: ['dose_7-baseline-gs1'], unknownJobIds, missingData: 'skip' });
    try {
      ask('refuse');
      expect.unreachable('an unknown id must be refused');
    } catch (e) {
      expect(isStudyError(e) && e.code).toBe('BAD_INPUT');
      expect(String(e)).toContain('unknown job id(s): dose_7-baseline-gs1');
    }
    expect(ask('ignore').selected).toEqual([]);
  });

  it('one missing-data policy: refuse names the file, skip-phase-d skips only overlap views, skip skips any view', () => {
    const at1000 = (missingData: 'refuse' | 'skip-phase-d' | 'skip', view: 'baseline' | 'sparse') =>
      planStudyJobs({ roots, design, filters: { ...NO_FILTERS, dose: 1000, view }, missingData }).jobs;
    expect(() => at1000('refuse', 'sparse')).toThrow(/Training dataset not found: .*dose_1000.*sparse/);
    expect(at1000('skip-phase-d', 'sparse')[0].skipReason).toMatch(/^Phase D data for sparse at dose 1000 is missing/);
    expect(() => at1000('skip-phase-d', 'baseline')).toThrow(/Training dataset not found: .*patched_train\.npz/);
    expect(at1000('skip', 'baseline')[0].skipReason).toMatch(/^Phase C data for baseline at dose 1000 is missing/);
    // jobs with their data are never skipped
    expect(at1000('skip', 'baseline').length + at1000('skip', 'sparse').length).toBe(2);
    expect(
      planStudyJobs({ roots, design, filters: { ...NO_FILTERS, dose: 10000 }, missingData: 'refuse' }).jobs,
    ).toHaveLength(3);
  });
});
