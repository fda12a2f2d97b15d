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
  it('folds a run: queued keeps the old curve, a fresh run replaces it, the end state is kept', () => {
    let cells = cellsFromListing({
      artifactRoot: '/a',
      file: null,
      running: null,
      jobs: [
        {
          jobId: 'dose_1000-dense-classical',
          dose: 1000,
          view: 'dense',
          state: 'done',
          errors: [0.5, 0.4],
          target: 2,
          resumable: false,
        },
      ],
    });
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({ state: 'done', errors: [0.5, 0.4], iteration: 2 });
    const before = cells;
    cells = foldClassical(cells, ev({ state: 'queued' }));
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({ state: 'queued', errors: [0.5, 0.4] });
    expect(before.get('dose_1000-dense-classical')!.state).toBe('done');
    cells = foldClassical(cells, ev({ state: 'running', iteration: 0 }));
    for (const [i, e] of [0.3, 0.2, 0.1].entries()) cells = foldClassical(cells, ev({ iteration: i + 1, error: e }));
    cells = foldClassical(cells, ev({ iteration: 3, error: 0.1 })); // a repeated event adds nothing
    cells = foldClassical(cells, ev({ state: 'done', iteration: 3, error: 0.1 }));
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({
      state: 'done',
      errors: [0.3, 0.2, 0.1],
      iteration: 3,
    });
  });

  it('a resumed run continues the curve where its recon.npz ended, dropping an interrupted attempt', () => {
    let cells = cellsFromListing({
      artifactRoot: '/a',
      file: null,
      running: null,
      jobs: [
        {
          jobId: 'dose_1000-dense-classical',
          dose: 1000,
          view: 'dense',
          state: 'interrupted',
          errors: [0.5, 0.4, 0.3, 0.29],
          target: 10,
          resumable: true,
        },
      ],
    });
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({
      iterations: 10,
      resumable: true,
      message: 'interrupted: the process reconstructing it is gone',
    });
    cells = foldClassical(cells, ev({ state: 'queued', iterations: 10 }));
    cells = foldClassical(cells, ev({ state: 'running', iteration: 0, iterations: 10 }));
    // recon.npz held 2 iterations: the resumed run's first is the third
    cells = foldClassical(cells, ev({ iteration: 3, error: 0.25, iterations: 10 }));
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({ errors: [0.5, 0.4, 0.25], resumable: false });
    cells = foldClassical(cells, ev({ state: 'cancelled', iteration: 3, error: 0.25, iterations: 10 }));
    expect(cells.get('dose_1000-dense-classical')).toMatchObject({ errors: [0.5, 0.4, 0.25], resumable: true });
  });

  it('draws the error on a log scale, first point top-left, last bottom-right', () => {
    expect(sparklinePath([1, 0.1, 0.01], 20, 10)).toBe('M0.0,0.0L10.0,5.0L20.0,10.0');
    expect(sparklinePath([1], 20, 10)).toBe('');
  });
});
