import { describe, expect, it } from 'vitest';
import { buildPinnGraph, convParameterCount, expectedParameterCount, type PinnModelSpec } from './model';
import { glorotUniform } from '../nn/init';
import { weightInitRng } from '../numeric/rng';

const base: PinnModelSpec = {
  N: 64,
  gridsize: 1,
  nFiltersScale: 2,
  ampActivation: 'sigmoid',
  probeBig: true,
  probeMask: false,
  intensityScaleTrainable: true,
  seed: 1,
  batch: 2,
};
const probe = (N: number) => ({ re: new Float32Array(N * N).fill(1), im: new Float32Array(N * N) });

describe('parameter count', () => {
  it.each([
    [1, false, 2252026],
    [2, false, 2257000],
    [1, true, 2331772],
    [2, true, 2340208],
  ])('gridsize %i probe_big %s has the doc count %i at N = 64', (gridsize, probeBig, count) => {
    const spec = { ...base, gridsize, probeBig };
    expect(expectedParameterCount(spec)).toBe(count);
    const pg = buildPinnGraph(spec, probe(64), 10, false);
    expect(convParameterCount(pg)).toBe(count);
  });
});

describe('other patch sizes from the same code', () => {
  it.each([32, 128])('N = %i builds with the analytic parameter count and N × N outputs', (N) => {
    for (const gridsize of [1, 2]) {
      const spec = { ...base, N, gridsize, batch: 2 };
      const pg = buildPinnGraph(spec, probe(N), 10, true);
      expect(convParameterCount(pg)).toBe(expectedParameterCount(spec));
      expect(pg.amp.shape).toEqual([2, gridsize * gridsize, N, N]);
      expect(pg.amplitude.shape).toEqual([2, 1, N, N]);
      expect(pg.loss?.shape).toEqual([]);
    }
  });
  it('the border branch width follows the original: nfs · 2048 / N', () => {
    const small = expectedParameterCount({ N: 128, gridsize: 1, nFiltersScale: 2, probeBig: true });
    const plain = expectedParameterCount({ N: 128, gridsize: 1, nFiltersScale: 2, probeBig: false });
    const c = (i: number, o: number) => 9 * i * o + o;
    expect(small - plain).toBe(2 * (c(4, 32) + c(32, 32) + c(32, 1)));
  });
});

describe('initial weights', () => {
  const inits = (seed: number) =>
    new Map(buildPinnGraph({ ...base, seed }, probe(64), 10, false).graph.params.map((p) => [p.name, p.init]));

  it('a rebuild of the same spec (kept kernels) starts from the very values a first build draws, in its own arrays', () => {
    const first = inits(777);
    const w0 = first.get('enc.0.conv1.w');
    expect(w0).toEqual(glorotUniform([64, 1, 3, 3], weightInitRng(777)));
    (w0 as Float32Array).fill(0); // a caller writing into one graph's values changes no later graph
    const again = inits(777);
    expect([...again.keys()]).toEqual([...first.keys()]);
    expect(again.get('enc.0.conv1.w')).toEqual(glorotUniform([64, 1, 3, 3], weightInitRng(777)));
    for (const [name, v] of first) if (name !== 'enc.0.conv1.w') expect(again.get(name), name).toEqual(v);
    expect(again.get('phase.border_last.w')).not.toEqual(inits(778).get('phase.border_last.w'));
  });
});
