import { describe, expect, it } from 'vitest';
import { groupScanPoints, nearestNeighbours, originalCoordsRelative } from './grouping';
import { permutation, trainerRng } from '../numeric/rng';

function scan(n: number, seed: number): { xs: Float64Array; ys: Float64Array } {
  const rng = trainerRng(seed);
  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = 40 + 200 * rng.next();
    ys[i] = 40 + 200 * rng.next();
  }
  return { xs, ys };
}

describe('seeded rng', () => {
  it('repeats from a seed and from a saved state', () => {
    const a = trainerRng(7);
    const b = trainerRng(7);
    for (let i = 0; i < 5; i++) a.nextU32();
    const saved = a.state();
    const restored = trainerRng(saved);
    for (let i = 0; i < 5; i++) b.nextU32();
    const seq = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => restored.nextU32())).toEqual(seq);
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(seq);
  });
  it('permutations are uniform enough to hit every position', () => {
    const rng = trainerRng(1);
    const hits = new Array(5).fill(0);
    for (let t = 0; t < 2000; t++) hits[permutation(rng, 5)[0]]++;
    for (const h of hits) expect(h).toBeGreaterThan(300);
  });
});

describe('grouping', () => {
  it('random-knn draws C members among the seed point K nearest neighbours, seed excluded', () => {
    const { xs, ys } = scan(60, 3);
    const g = groupScanPoints(xs, ys, { gridsize: 2, neighborCount: 7, seed: 11 });
    expect(g.count).toBe(60);
    expect(g.C).toBe(4);
    for (let gi = 0; gi < g.count; gi++) {
      const members = Array.from(g.indices.subarray(gi * 4, gi * 4 + 4));
      const knn = nearestNeighbours(xs, ys, gi, 7);
      expect(new Set(members).size).toBe(4);
      for (const m of members) expect(knn).toContain(m);
      expect(members).not.toContain(gi);
    }
  });

  it('is seeded: same seed same groups, another seed other groups', () => {
    const { xs, ys } = scan(40, 5);
    const a = groupScanPoints(xs, ys, { gridsize: 2, seed: 1 });
    const b = groupScanPoints(xs, ys, { gridsize: 2, seed: 1 });
    const c = groupScanPoints(xs, ys, { gridsize: 2, seed: 2 });
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.indices)).not.toEqual(Array.from(c.indices));
  });

  it('offsets are positions minus the group mean, as (dx, dy); the original stores their negation', () => {
    const { xs, ys } = scan(30, 9);
    const g = groupScanPoints(xs, ys, { gridsize: 2, seed: 4 });
    for (let gi = 0; gi < g.count; gi++) {
      const idx = Array.from(g.indices.subarray(gi * 4, gi * 4 + 4));
      const mx = idx.reduce((s, i) => s + xs[i], 0) / 4;
      const my = idx.reduce((s, i) => s + ys[i], 0) / 4;
      for (let c = 0; c < 4; c++) {
        expect(g.offsets[(gi * 4 + c) * 2]).toBeCloseTo(xs[idx[c]] - mx, 4);
        expect(g.offsets[(gi * 4 + c) * 2 + 1]).toBeCloseTo(ys[idx[c]] - my, 4);
      }
    }
    const orig = originalCoordsRelative(g);
    expect(orig[0]).toBe(-g.offsets[0]);
  });

  it("the reference's rule is the point and its 3 nearest neighbours, deterministic", () => {
    const xs = [0, 1, 2, 10, 11, 30];
    const ys = [0, 0, 0, 0, 0, 0];
    const g = groupScanPoints(xs, ys, { gridsize: 2, seed: 0, rule: 'nearest' });
    expect(Array.from(g.indices.subarray(0, 4))).toEqual([0, 1, 2, 3]);
    expect(Array.from(g.indices.subarray(5 * 4, 6 * 4))).toEqual([5, 4, 3, 2]);
  });

  it('n_groups caps the number of groups with distinct seed points; gridsize 1 groups are single points', () => {
    const { xs, ys } = scan(50, 2);
    const g = groupScanPoints(xs, ys, { gridsize: 1, nGroups: 20, seed: 3 });
    expect(g.count).toBe(20);
    expect(new Set(g.indices).size).toBe(20);
    expect(Array.from(g.offsets).every((v) => v === 0)).toBe(true);
  });

  it('refuses K < C with a stated error', () => {
    const { xs, ys } = scan(10, 2);
    expect(() => groupScanPoints(xs, ys, { gridsize: 2, neighborCount: 3, seed: 0 })).toThrow(
      /K=3 must be at least C=4/,
    );
  });
});
