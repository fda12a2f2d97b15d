import { describe, expect, it } from 'vitest';
import type { ClassicalProgressEvent } from '../../../shared/classical-api';
import { cellsFromListing, foldClassical, sparklinePath } from './classical';

const ev = (p: Partial<ClassicalProgressEvent>): ClassicalProgressEvent => ({
  runId: 'r',
  artifactRoot: '/a',
  jobId: 'dose_1000-dense-classical',
  dose: 1000,
  view: 'dense',
  state: 'running',
  iteration: 0,
  iterations: 3,
  error: null,
  message: null,
  ...p,
});

describe('classical row state', () => {
  it('folds a run: queued clears the old curve, iterations append, the end state is kept', () => {
    let cells = cellsFromListing({
      artifactRoot: '/a',
      file: null,
      running: null,
      jobs: [{ jobId: 'dose_1000-dense-classical', dose: 1000, view: 'dense', state: 'done', errors: [0.5, 0.4] }],
    });
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({ state: 'done', errors: [0.5, 0.4], iteration: 2 });
    const before = cells;
    cells = foldClassical(cells, ev({ state: 'queued' }));
    expect(cells.get('dose_1000-dense-classical')!.errors).toEqual([]);
    expect(before.get('dose_1000-dense-classical')!.errors).toEqual([0.5, 0.4]);
    for (const [i, e] of [0.3, 0.2, 0.1].entries()) cells = foldClassical(cells, ev({ iteration: i + 1, error: e }));
    cells = foldClassical(cells, ev({ iteration: 3, error: 0.1 })); // a repeated event adds nothing
    cells = foldClassical(cells, ev({ state: 'done', iteration: 3, error: 0.1 }));
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({
      state: 'done',
      errors: [0.3, 0.2, 0.1],
      iteration: 3,
    });
  });

  it('draws the error on a log scale, first point top-left, last bottom-right', () => {
    expect(sparklinePath([1, 0.1, 0.01], 20, 10)).toBe('M0.0,0.0L10.0,5.0L20.0,10.0');
    expect(sparklinePath([1], 20, 10)).toBe('');
  });
});
