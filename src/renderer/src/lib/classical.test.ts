import { describe, expect, it } from 'vitest';
import type { ClassicalProgressEvent } from '../../../shared/classical-api';
import {
  CLASSICAL_SETTINGS_KEY,
  cellsFromListing,
  classicalInput,
  DEFAULT_CLASSICAL_SETTINGS,
  foldClassical,
  loadClassicalSettings,
  reconstructCommand,
  saveClassicalSettings,
  settingsErrors,
  sparklinePath,
} from './classical';

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

/** The cells of a listing holding one job, the dense view at dose 1000. */
const denseJob = (
  job: Pick<Parameters<typeof cellsFromListing>[0]['jobs'][number], 'state' | 'errors' | 'target' | 'resumable'>,
) =>
  cellsFromListing({
    artifactRoot: '/a',
    file: null,
    running: null,
    jobs: [{ jobId: 'dose_1000-dense-classical', dose: 1000, view: 'dense', ...job }],
  });

describe('classical row state', () => {
  it('folds a run: queued keeps the old curve, a fresh run replaces it, the end state is kept', () => {
    let cells = denseJob({ state: 'done', errors: [0.5, 0.4], target: 2, resumable: false });
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
    let cells = denseJob({ state: 'interrupted', errors: [0.5, 0.4, 0.3, 0.29], target: 10, resumable: true });
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

  it('refuses iterations outside 1–10000 and a negative TV weight (only for LSQML), naming the range', () => {
    const s = DEFAULT_CLASSICAL_SETTINGS;
    expect(settingsErrors(s)).toEqual([]);
    expect(settingsErrors({ ...s, iterations: '0' })).toEqual(["iterations: a whole number from 1 to 10000, not '0'"]);
    expect(settingsErrors({ ...s, iterations: '2.5' })).toHaveLength(1);
    expect(settingsErrors({ ...s, iterations: '10001' })).toHaveLength(1);
    expect(settingsErrors({ ...s, iterations: '' })).toHaveLength(1);
    expect(settingsErrors({ ...s, tv: '-1' })).toEqual([]); // not sent unless LSQML
    expect(settingsErrors({ ...s, algorithm: 'lsqml', tv: '-1' })).toEqual(["TV weight: a number ≥ 0, not '-1'"]);
    expect(settingsErrors({ ...s, algorithm: 'lsqml', tv: 'abc' })).toHaveLength(1);
    expect(settingsErrors({ ...s, algorithm: 'lsqml', tv: '5e-5' })).toEqual([]);
  });

  it('sends the TV weight only for LSQML and writes the same reconstruction as a command', () => {
    const roots = { phaseC: '/w/phase c', phaseD: '/w/phase_d', artifact: '/w/art' };
    const lsqml = { ...DEFAULT_CLASSICAL_SETTINGS, algorithm: 'lsqml' as const, iterations: '300', tv: '5e-5' };
    const focused = { dose: 100000, view: 'dense' as const };
    expect(classicalInput(lsqml, focused)).toEqual({
      dose: 100000,
      view: 'dense',
      algorithm: 'lsqml',
      iterations: 300,
      probeUpdate: true,
      tv: 5e-5,
      resume: false,
    });
    expect(classicalInput({ ...lsqml, algorithm: 'epie' }, null)).not.toHaveProperty('tv');
    expect(reconstructCommand(roots, lsqml, focused)).toBe(
      "ptycho-study reconstruct --phase-c-root '/w/phase c' --phase-d-root /w/phase_d --artifact-root /w/art --algorithm lsqml --iterations 300 --probe-update on --tv 0.00005 --dose 100000 --view dense",
    );
    expect(reconstructCommand(roots, { ...DEFAULT_CLASSICAL_SETTINGS, probeUpdate: false, resume: true }, null)).toBe(
      "ptycho-study reconstruct --phase-c-root '/w/phase c' --phase-d-root /w/phase_d --artifact-root /w/art --algorithm epie --iterations 100 --probe-update off --resume",
    );
  });

  it('keeps the settings per study: another study starts from the defaults, a bad entry is ignored, resume is not kept', () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => data.set(k, v) };
    const lsqml = { algorithm: 'lsqml' as const, iterations: '300', probeUpdate: false, tv: '-1', resume: true };
    saveClassicalSettings(storage, '/w/a', lsqml);
    expect(loadClassicalSettings(storage, '/w/a')).toEqual({ ...lsqml, resume: false }); // refused values too
    expect(loadClassicalSettings(storage, '/w/b')).toEqual(DEFAULT_CLASSICAL_SETTINGS);
    saveClassicalSettings(storage, '/w/b', { ...DEFAULT_CLASSICAL_SETTINGS, iterations: '7' });
    expect(loadClassicalSettings(storage, '/w/a').iterations).toBe('300');
    expect(loadClassicalSettings(storage, '/w/b').iterations).toBe('7');
    expect(loadClassicalSettings(null, '/w/a')).toEqual(DEFAULT_CLASSICAL_SETTINGS);
    expect(loadClassicalSettings(storage, null)).toEqual(DEFAULT_CLASSICAL_SETTINGS);
    data.set(CLASSICAL_SETTINGS_KEY, JSON.stringify({ '/w/a': { algorithm: 'magic', iterations: '1' } }));
    expect(loadClassicalSettings(storage, '/w/a')).toEqual(DEFAULT_CLASSICAL_SETTINGS);
    data.set(CLASSICAL_SETTINGS_KEY, 'not json');
    expect(loadClassicalSettings(storage, '/w/a')).toEqual(DEFAULT_CLASSICAL_SETTINGS);
    saveClassicalSettings(storage, '/w/a', lsqml); // a broken entry is replaced
    expect(loadClassicalSettings(storage, '/w/a').algorithm).toBe('lsqml');
  });

  it('remembers at most 30 studies, forgetting the one saved longest ago', () => {
    const data = new Map<string, string>();
    const storage = { getItem: (k: string) => data.get(k) ?? null, setItem: (k: string, v: string) => data.set(k, v) };
    for (let i = 0; i < 31; i++)
      saveClassicalSettings(storage, `/w/${i}`, { ...DEFAULT_CLASSICAL_SETTINGS, iterations: `${i + 1}` });
    expect(loadClassicalSettings(storage, '/w/0')).toEqual(DEFAULT_CLASSICAL_SETTINGS);
    expect(loadClassicalSettings(storage, '/w/1').iterations).toBe('2');
    expect(loadClassicalSettings(storage, '/w/30').iterations).toBe('31');
  });

  it('records the run holding a job: from its events, and from the listing for the running one', () => {
    const listing = cellsFromListing({
      artifactRoot: '/a',
      file: null,
      running: { runId: 'r9', jobId: 'dose_1000-dense-classical' },
      jobs: [
        {
          jobId: 'dose_1000-dense-classical',
          dose: 1000,
          view: 'dense',
          state: 'running',
          errors: [],
          target: 5,
          resumable: false,
        },
        {
          jobId: 'dose_1000-sparse-classical',
          dose: 1000,
          view: 'sparse',
          state: 'queued',
          errors: [],
          target: null,
          resumable: false,
        },
      ],
    });
    expect(listing.get('dose_1000-dense-classical')!.runId).toBe('r9');
    expect(listing.get('dose_1000-sparse-classical')!.runId).toBeNull();
    const folded = foldClassical(
      listing,
      ev({ runId: 'r10', jobId: 'dose_1000-sparse-classical', view: 'sparse', state: 'queued' }),
    );
    expect(folded.get('dose_1000-sparse-classical')!.runId).toBe('r10');
  });
});
