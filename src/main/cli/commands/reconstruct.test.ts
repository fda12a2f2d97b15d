import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliSync } from '../../../../test/helpers/cli';
import { ClassicalFile } from '../../classical/study';
import { buildOverlapViews } from '../../data/overlap';
import { simulatePhaseC } from '../../data/simulate';

let dir: string;
let roots: string[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-reconstruct-'));
  await simulatePhaseC(join(dir, 'phase_c'), {
    N: 32,
    objectSize: 128,
    nPositions: 240,
    doses: [1e4],
    probeDiameterPx: 19.2,
  });
  await buildOverlapViews(join(dir, 'phase_c'), join(dir, 'phase_d'), {});
  roots = [
    '--phase-c-root',
    join(dir, 'phase_c'),
    '--phase-d-root',
    join(dir, 'phase_d'),
    '--artifact-root',
    join(dir, 'art'),
  ];
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ptycho-study reconstruct', () => {
  it('reconstructs the selected view, scores it and writes classical.{json,csv} (underscore flags accepted)', () => {
    const r = runCliSync([
      'reconstruct',
      ...roots,
      '--dose',
      '1e4',
      '--view',
      'dense',
      '--iterations',
      '5',
      '--probe_update',
      'off',
      '--algorithm',
      'rpie',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rpie: 5 iterations, α 0.1, β 1, probe update off');
    expect(r.stdout).toMatch(/dose_10000-dense-classical/);
    expect(r.stdout).toMatch(/done: 5 iterations in .* s \(.* it\/s\)\s+phase SSIM 0\.\d+/);
    const file = ClassicalFile.parse(JSON.parse(readFileSync(join(dir, 'art', 'classical.json'), 'utf8')));
    expect(file.parameters).toMatchObject({
      algorithm: 'rpie',
      iterations: 5,
      probe_update: false,
      alpha: 0.1,
      beta: 1,
    });
    expect(file.rows.map((x) => [x.job_id, x.state])).toEqual([['dose_10000-dense-classical', 'done']]);
    expect(file.rows[0].phase_ssim).toBeGreaterThan(0);
    const csv = readFileSync(join(dir, 'art', 'classical.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[0]).toMatch(/^job_id,dose,view,state/);
  }, 60_000);

  it('a later run for another view keeps the earlier rows; a missing test file is listed (exit 1 when nothing ran)', () => {
    rmSync(join(dir, 'phase_d', 'dose_10000', 'sparse'), { recursive: true, force: true });
    const r = runCliSync(['reconstruct', ...roots, '--dose', '10000', '--view', 'sparse', '--iterations', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: no test data for any selected (dose, view)');
    expect(r.stdout).toMatch(/missing: test data not found: .*sparse_test\.npz/);
    const file = ClassicalFile.parse(JSON.parse(readFileSync(join(dir, 'art', 'classical.json'), 'utf8')));
    expect(file.rows.map((x) => [x.view, x.state])).toEqual([
      ['dense', 'done'],
      ['sparse', 'missing'],
    ]);
  }, 60_000);

  it('--resume continues a shorter run to the asked iterations and refuses other settings', () => {
    const base = [...roots, '--dose', '1e4', '--view', 'dense', '--probe-update', 'off', '--algorithm', 'rpie'];
    const r = runCliSync(['reconstruct', ...base, '--iterations', '8', '--resume']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/done: 8 iterations/);
    const file = ClassicalFile.parse(JSON.parse(readFileSync(join(dir, 'art', 'classical.json'), 'utf8')));
    expect(file.rows.find((x) => x.view === 'dense')!.iterations).toBe(8);
    const events = readFileSync(join(dir, 'art', 'dose_10000', 'dense', 'classical', 'events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; status?: string; epoch?: number });
    expect(events.filter((e) => e.type === 'epoch').map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.filter((e) => e.type === 'status').map((e) => e.status)).toEqual([
      'started',
      'done',
      'resumed',
      'done',
    ]);
    const bad = runCliSync(['reconstruct', ...base, '--iterations', '9', '--resume', '--alpha', '0.5']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/failed: cannot resume: .*recon\.npz was made with other settings/);
  }, 60_000);

  it('roots with no test data at all are an error naming them', () => {
    const r = runCliSync([
      'reconstruct',
      '--phase-c-root',
      join(dir, 'none_c'),
      '--phase-d-root',
      join(dir, 'none_d'),
      '--artifact-root',
      join(dir, 'none_art'),
      '--iterations',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: no test data for any selected (dose, view) under ${join(dir, 'none_c')}`);
  });

  it('--algorithm lsqml runs and records its prior; --tv with another algorithm is refused', () => {
    const r = runCliSync([
      'reconstruct',
      ...roots,
      '--dose',
      '1e4',
      '--view',
      'dense',
      '--iterations',
      '3',
      '--algorithm',
      'lsqml',
      '--tv',
      '0.01',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lsqml: 3 iterations, α 1, β 1, TV 0.01, probe update from iteration 6');
    const file = ClassicalFile.parse(JSON.parse(readFileSync(join(dir, 'art', 'classical.json'), 'utf8')));
    expect(file.parameters).toMatchObject({
      algorithm: 'lsqml',
      iterations: 3,
      alpha: 1,
      beta: 1,
      delta: 1e-3,
      tv: 0.01,
      tv_epsilon: 0.002,
    });
    const bad = runCliSync(['reconstruct', ...roots, '--algorithm', 'epie', '--tv', '0.01']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--tv is a prior of --algorithm lsqml, not of epie');
  }, 60_000);
});
