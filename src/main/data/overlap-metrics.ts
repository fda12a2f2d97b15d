/**
 * Scan-overlap geometry (PtychoPINN docs/specs/overlap_metrics.md): the disc-overlap fraction
 * of two probe footprints, the greedy minimum-spacing selection that defines a view, the
 * gridsize-2 grouping, and the three overlap metrics. Geometry only: positions in pixels.
 */
import { simulationRng } from '../numeric/rng';

export const METRICS_VERSION = 'overlap_metrics/1';

/** f(d) = A(d)/(πR²): overlap area of two discs of diameter D at distance d over one disc's area. */
export function discOverlapFraction(d: number, D: number): number {
  if (!(D > 0)) throw new RangeError(`probe diameter must be > 0, got ${D}`);
  if (d >= D) return 0;
  if (d <= 0) return 1;
  const R = D / 2;
  const area = 2 * R * R * Math.acos(d / (2 * R)) - (d / 2) * Math.sqrt(4 * R * R - d * d);
  return area / (Math.PI * R * R);
}

/**
 * Greedy selection in (y, x) order: a position is kept when it is at least `spacing` px from
 * every position kept before it. Returns indices in scan order.
 */
export function greedySpacingSelection(xs: ArrayLike<number>, ys: ArrayLike<number>, spacing: number): number[] {
  const n = xs.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ys[a] - ys[b] || xs[a] - xs[b] || a - b);
  if (!(spacing > 0)) return order.sort((a, b) => a - b);
  // uniform grid of cell size `spacing`: a conflict can only be in the 3 × 3 neighbouring cells
  const cells = new Map<string, number[]>();
  const kept: number[] = [];
  const s2 = spacing * spacing;
  for (const i of order) {
    const cx = Math.floor(xs[i] / spacing);
    const cy = Math.floor(ys[i] / spacing);
    let ok = true;
    for (let dy = -1; dy <= 1 && ok; dy++)
      for (let dx = -1; dx <= 1 && ok; dx++)
        for (const j of cells.get(`${cx + dx},${cy + dy}`) ?? []) {
          const ex = xs[i] - xs[j];
          const ey = ys[i] - ys[j];
          if (ex * ex + ey * ey < s2) {
            ok = false;
            break;
          }
        }
    if (!ok) continue;
    kept.push(i);
    const key = `${cx},${cy}`;
    const list = cells.get(key);
    if (list) list.push(i);
    else cells.set(key, [i]);
  }
  return kept.sort((a, b) => a - b);
}

/** Indices of the k nearest other points of point i (ties by index), brute force. */
function nearest(xs: ArrayLike<number>, ys: ArrayLike<number>, i: number, k: number): number[] {
  const n = xs.length;
  const cand: Array<[number, number]> = [];
  for (let j = 0; j < n; j++) if (j !== i) cand.push([(xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2, j]);
  cand.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return cand.slice(0, k).map((c) => c[1]);
}

export interface GroupingRule {
  /** neighbours a group is drawn from (the design's K = 7) */
  K: number;
  /** members per group, gridsize² */
  C: number;
  seed: number;
}

/**
 * One group per position: C members drawn without replacement among its K nearest
 * neighbours (the seed excluded; added only when fewer than C neighbours exist), seeded.
 */
export function knnGroups(xs: ArrayLike<number>, ys: ArrayLike<number>, rule: GroupingRule): number[][] {
  const rng = simulationRng(rule.seed, 'groups');
  const groups: number[][] = [];
  for (let i = 0; i < xs.length; i++) {
    const pool = nearest(xs, ys, i, rule.K);
    if (pool.length < rule.C) pool.push(i);
    for (let k = 0; k < Math.min(rule.C, pool.length); k++) {
      const r = k + Math.floor(rng.random() * (pool.length - k));
      [pool[k], pool[r]] = [pool[r], pool[k]];
    }
    groups.push(pool.slice(0, rule.C));
  }
  return groups;
}

export interface OverlapMetrics {
  metrics_version: string;
  gridsize: number;
  neighbor_count: number;
  probe_diameter_px: number;
  /** gs2 only: per member, mean f to the other members of its group (up to K nearest); averaged */
  metric_1_group_based_avg: number | null;
  /** per unique position, mean f to its K nearest unique positions; averaged */
  metric_2_image_based_avg: number;
  /** per group, mean f to the groups whose centre of mass is closer than D (0 if none); averaged */
  metric_3_group_to_group_avg: number;
  n_images_total: number;
  n_unique_images: number;
  n_groups_actual: number;
}

export function overlapMetrics(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  groups: number[][],
  options: { gridsize: number; neighborCount: number; probeDiameterPx: number },
): OverlapMetrics {
  const D = options.probeDiameterPx;
  const K = options.neighborCount;
  const dist = (ax: number, ay: number, bx: number, by: number) => Math.hypot(ax - bx, ay - by);

  let metric1: number | null = null;
  if (options.gridsize > 1) {
    let sum = 0;
    let count = 0;
    for (const g of groups)
      for (const i of g) {
        const d = g
          .filter((j) => j !== i)
          .map((j) => dist(xs[i], ys[i], xs[j], ys[j]))
          .sort((a, b) => a - b)
          .slice(0, K);
        if (!d.length) continue;
        sum += d.reduce((a, x) => a + discOverlapFraction(x, D), 0) / d.length;
        count++;
      }
    metric1 = count ? sum / count : 0;
  }

  const seen = new Set<string>();
  const ux: number[] = [];
  const uy: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    const key = `${xs[i]},${ys[i]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ux.push(xs[i]);
    uy.push(ys[i]);
  }
  let metric2 = 0;
  for (let i = 0; i < ux.length; i++) {
    const nb = nearest(ux, uy, i, K);
    if (nb.length)
      metric2 += nb.reduce((a, j) => a + discOverlapFraction(dist(ux[i], uy[i], ux[j], uy[j]), D), 0) / nb.length;
  }
  metric2 = ux.length ? metric2 / ux.length : 0;

  const gx = groups.map((g) => g.reduce((a, i) => a + xs[i], 0) / g.length);
  const gy = groups.map((g) => g.reduce((a, i) => a + ys[i], 0) / g.length);
  let metric3 = 0;
  for (let a = 0; a < groups.length; a++) {
    let sum = 0;
    let count = 0;
    for (let b = 0; b < groups.length; b++) {
      if (a === b) continue;
      const d = dist(gx[a], gy[a], gx[b], gy[b]);
      if (d < D) {
        sum += discOverlapFraction(d, D);
        count++;
      }
    }
    metric3 += count ? sum / count : 0;
  }
  metric3 = groups.length ? metric3 / groups.length : 0;

  return {
    metrics_version: METRICS_VERSION,
    gridsize: options.gridsize,
    neighbor_count: K,
    probe_diameter_px: D,
    metric_1_group_based_avg: metric1,
    metric_2_image_based_avg: metric2,
    metric_3_group_to_group_avg: metric3,
    n_images_total: xs.length,
    n_unique_images: ux.length,
    n_groups_actual: groups.length,
  };
}

export interface SpacingStats {
  min_spacing: number;
  max_spacing: number;
  mean_spacing: number;
  median_spacing: number;
  /** mean distance to the nearest other position */
  mean_nearest_neighbor: number;
}

/**
 * Statistics of all pairwise distances (the original's spacing fields) plus the mean
 * nearest-neighbour distance. Up to 4M pairs the median is exact; above, it comes from a
 * 2^16-bin histogram (within (max − min)/65536) so memory stays O(n).
 */
export function spacingStats(xs: ArrayLike<number>, ys: ArrayLike<number>): SpacingStats {
  const n = xs.length;
  if (n < 2) return { min_spacing: 0, max_spacing: 0, mean_spacing: 0, median_spacing: 0, mean_nearest_neighbor: 0 };
  const m = (n * (n - 1)) / 2;
  const exact = m <= 4_000_000;
  const d = exact ? new Float64Array(m) : null;
  const nn = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let k = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = Math.hypot(xs[i] - xs[j], ys[i] - ys[j]);
      if (d) d[k++] = v;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v < nn[i]) nn[i] = v;
      if (v < nn[j]) nn[j] = v;
    }
  let median: number;
  if (d) {
    d.sort();
    median = m % 2 ? d[m >> 1] : (d[m / 2 - 1] + d[m / 2]) / 2;
  } else {
    const bins = 1 << 16;
    const hist = new Float64Array(bins);
    const width = (max - min) / bins || 1;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++)
        hist[Math.min(bins - 1, Math.floor((Math.hypot(xs[i] - xs[j], ys[i] - ys[j]) - min) / width))]++;
    let seen = 0;
    let b = 0;
    while (b < bins - 1 && seen + hist[b] < m / 2) seen += hist[b++];
    median = min + (b + 0.5) * width;
  }
  return {
    min_spacing: min,
    max_spacing: max,
    mean_spacing: sum / m,
    median_spacing: median,
    mean_nearest_neighbor: nn.reduce((a, b) => a + b, 0) / n,
  };
}
