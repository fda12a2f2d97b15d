import { describe, expect, it } from 'vitest';
import { buildPinnGraph, convParameterCount, expectedParameterCount, type PinnModelSpec } from './model';

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
