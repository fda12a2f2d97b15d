import { describe, expect, it } from 'vitest';
import {
  discOverlapFraction,
  greedySpacingSelection,
  knnGroups,
  overlapMetrics,
  spacingStats,
} from './overlap-metrics';

// Hand-computed with R = 10 (D = 20): f(d) = [2R²·acos(d/2R) − (d/2)·√(4R² − d²)] / (πR²)
//   f(10)    = [200·π/3 − 5·√300] / 100π         = (209.4395 − 86.6025) / 314.1593 = 0.391002
//   f(10·√2) = [200·π/4 − 7.0711·√200] / 100π    = (157.0796 − 100.0000) / 314.1593 = 0.181690
const F10 = 0.391002;
const F14 = 0.18169;

/** 3 × 3 square grid, 10 px pitch. */
const GX = [0, 10, 20, 0, 10, 20, 0, 10, 20];
const GY = [0, 0, 0, 10, 10, 10, 20, 20, 20];

describe('disc overlap', () => {
  it('f(d) at hand-computed distances and at the limits', () => {
    expect(discOverlapFraction(10, 20)).toBeCloseTo(F10, 5);
    expect(discOverlapFraction(Math.SQRT2 * 10, 20)).toBeCloseTo(F14, 5);
    expect(discOverlapFraction(0, 20)).toBe(1);
    expect(discOverlapFraction(20, 20)).toBe(0);
    expect(discOverlapFraction(25, 20)).toBe(0);
  });

  it('metrics of a 3 × 3 grid with hand-made groups match the hand computation', () => {
    // two 2 × 2 squares sharing the centre point: A = {0,1,3,4}, B = {4,5,7,8}
    const groups = [
      [0, 1, 3, 4],
      [4, 5, 7, 8],
    ];
    const m2 = overlapMetrics(GX, GY, groups, { gridsize: 2, neighborCount: 2, probeDiameterPx: 20 });
    // metric 1, K = 2: each member's two nearest partners in its square are 10 px away
    expect(m2.metric_1_group_based_avg).toBeCloseTo(F10, 5);
    // metric 2, K = 2: every grid point has at least two neighbours at 10 px
    expect(m2.metric_2_image_based_avg).toBeCloseTo(F10, 5);
    // metric 3: centres (5, 5) and (15, 15) are 10√2 < D apart
    expect(m2.metric_3_group_to_group_avg).toBeCloseTo(F14, 5);
    expect(m2).toMatchObject({ n_images_total: 9, n_unique_images: 9, n_groups_actual: 2 });

    // K = 4: corners (2·f10 + f14 + 0)/4, edges (3·f10 + f14)/4, centre f10
    const m4 = overlapMetrics(GX, GY, groups, { gridsize: 2, neighborCount: 4, probeDiameterPx: 20 });
    // metric 1, K = 4: all three partners, two at 10 and one at 10√2
    expect(m4.metric_1_group_based_avg).toBeCloseTo((2 * F10 + F14) / 3, 5); // 0.321231
    const corner = (2 * F10 + F14) / 4; // 0.240924
    const edge = (3 * F10 + F14) / 4; // 0.338674
    expect(m4.metric_2_image_based_avg).toBeCloseTo((4 * corner + 4 * edge + F10) / 9, 5); // 0.301049
  });

  it('metric 1 is null at gridsize 1, duplicates count once in metric 2, far groups give 0 in metric 3', () => {
    const m = overlapMetrics([0, 0, 50], [0, 0, 0], [[0], [2]], { gridsize: 1, neighborCount: 6, probeDiameterPx: 20 });
    expect(m.metric_1_group_based_avg).toBeNull();
    expect(m.n_unique_images).toBe(2);
    expect(m.metric_2_image_based_avg).toBe(0);
    expect(m.metric_3_group_to_group_avg).toBe(0);
  });
});

describe('views and groups', () => {
  it('greedy selection keeps positions at least S apart, in (y, x) order', () => {
    const xs = [20, 0, 5, 10, 15, 0];
    const ys = [0, 0, 0, 0, 0, 7];
    // (y, x) order: (0,0) keep, (0,5) no, (0,10) keep, (0,15) no, (0,20) keep, (7,0): 7 from (0,0) → no
    expect(greedySpacingSelection(xs, ys, 10)).toEqual([0, 1, 3]);
    expect(greedySpacingSelection(xs, ys, 7)).toEqual([0, 1, 3, 5]);
    const kept = greedySpacingSelection(GX, GY, 15);
    for (const i of kept)
      for (const j of kept) if (i < j) expect(Math.hypot(GX[i] - GX[j], GY[i] - GY[j])).toBeGreaterThanOrEqual(15);
    expect(kept).toEqual([0, 2, 6, 8]);
  });

  it('groups draw C of the K nearest neighbours, never the seed, reproducibly', () => {
    const g = knnGroups(GX, GY, { K: 4, C: 4, seed: 1 });
    // with K = C = 4 the centre's group is its four edge neighbours
    expect([...g[4]].sort()).toEqual([1, 3, 5, 7]);
    for (const [i, members] of g.entries()) {
      expect(members).toHaveLength(4);
      expect(members).not.toContain(i);
      expect(new Set(members).size).toBe(4);
    }
    expect(knnGroups(GX, GY, { K: 7, C: 4, seed: 3 })).toEqual(knnGroups(GX, GY, { K: 7, C: 4, seed: 3 }));
  });

  it('spacing statistics of the grid', () => {
    const s = spacingStats(GX, GY);
    expect(s.min_spacing).toBe(10);
    expect(s.max_spacing).toBeCloseTo(Math.hypot(20, 20), 12);
    expect(s.mean_nearest_neighbor).toBe(10);
    // 36 pairs: 12 at 10, 8 at 10√2, 6 at 20, 8 at √500, 2 at 20√2 → the 18th and 19th are both 10√2
    expect(s.median_spacing).toBeCloseTo(Math.SQRT2 * 10, 12);
    expect(s.mean_spacing).toBeCloseTo(
      (12 * 10 + 8 * Math.SQRT2 * 10 + 6 * 20 + 8 * Math.sqrt(500) + 2 * Math.SQRT2 * 20) / 36,
      12,
    );
  });

  it('large scans get the median from a histogram, within one bin of the exact value', () => {
    const n = 2900; // 4.2M pairs: above the exact-sort limit
    const xs = Array.from({ length: n }, (_, i) => (i * 7919) % 1013);
    const ys = Array.from({ length: n }, (_, i) => (i * 104729) % 997);
    const s = spacingStats(xs, ys);
    const d = new Float64Array((n * (n - 1)) / 2);
    let k = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) d[k++] = Math.hypot(xs[i] - xs[j], ys[i] - ys[j]);
    d.sort();
    const exact = (d[d.length / 2 - 1] + d[d.length / 2]) / 2;
    expect(Math.abs(s.median_spacing - exact)).toBeLessThanOrEqual((d[d.length - 1] - d[0]) / 65536);
    expect(s.min_spacing).toBe(d[0]);
    expect(s.max_spacing).toBe(d[d.length - 1]);
  });
});
