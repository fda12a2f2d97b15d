/**
 * Scan-point grouping for gridsize g: C = g² diffraction patterns per training sample.
 *
 * Default rule ('random-knn', the study design): for each seed scan point take its K
 * nearest neighbours (the seed itself excluded) and draw C of them uniformly at random
 * without replacement, seeded. One group per scan point, or `nGroups` seed points drawn at
 * random without replacement when that caps it. Where fewer than C neighbours exist the
 * seed joins the candidates, as in the original.
 *
 * Reference rule ('nearest', ../reference/torch_pinn.py): the point itself first, then its
 * C−1 nearest neighbours (ties broken by index), one group per point, deterministic.
 *
 * Offsets d_c = (x_c, y_c) − mean of the group, in pixels, stored as (dx, dy): a patch with
 * offset d sits at canvas centre + d. The original stores the negated relative coordinates
 * (local_offset_sign = −1) and its translation moves content by +t; the placement is the
 * same, so `originalCoordsRelative` gives the original's numbers when they are needed.
 */
import { StudyError } from '../../shared/errors';
import { sampleWithoutReplacement, trainerRng } from '../numeric/rng';

export type GroupingRule = 'random-knn' | 'nearest';

export interface GroupingOptions {
  gridsize: number;
  /** Neighbour count K (random-knn); the study design's 7. */
  neighborCount?: number;
  /** Cap on the number of groups (`--n-groups` / `--n-images`); default one per scan point. */
  nGroups?: number;
  seed: number;
  rule?: GroupingRule;
}

export interface Groups {
  /** Number of groups G. */
  count: number;
  /** Patterns per group C = gridsize². */
  C: number;
  /** Scan-point indices, (G, C) row-major. */
  indices: Int32Array;
  /** Offsets (G, C, 2) as (dx, dy) in pixels relative to the group's mean position. */
  offsets: Float32Array;
  rule: GroupingRule;
  neighborCount: number;
  seed: number;
}

/** Indices of the k nearest points to point i (i excluded), nearest first, ties by index. */
export function nearestNeighbours(xs: ArrayLike<number>, ys: ArrayLike<number>, i: number, k: number): number[] {
  const n = xs.length;
  const best: { j: number; d: number }[] = [];
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    const dx = xs[j] - xs[i];
    const dy = ys[j] - ys[i];
    const d = dx * dx + dy * dy;
    if (best.length === k && d >= best[k - 1].d) continue;
    let at = best.length;
    while (at > 0 && best[at - 1].d > d) at--;
    best.splice(at, 0, { j, d });
    if (best.length > k) best.pop();
  }
  return best.map((b) => b.j);
}

export function groupScanPoints(xs: ArrayLike<number>, ys: ArrayLike<number>, opts: GroupingOptions): Groups {
  const n = xs.length;
  const g = opts.gridsize;
  if (!(g === 1 || g === 2 || g === 3)) {
    throw new StudyError('BAD_INPUT', `gridsize must be 1, 2 or 3`, { key: 'gridsize', found: g });
  }
  if (ys.length !== n) {
    throw new StudyError('DATA_CONTRACT', 'xcoords and ycoords differ in length', {
      key: 'ycoords',
      found: ys.length,
      expected: n,
    });
  }
  const C = g * g;
  const rule = opts.rule ?? 'random-knn';
  const K = opts.neighborCount ?? 7;
  if (C > 1 && rule === 'random-knn' && K < C) {
    throw new StudyError('BAD_INPUT', `neighbour count K=${K} must be at least C=${C} (gridsize²)`, {
      key: 'neighbor_count',
      found: K,
      expected: `>= ${C}`,
    });
  }
  if (n < C) {
    throw new StudyError('DATA_CONTRACT', `${n} scan points cannot form groups of ${C}`, {
      key: 'xcoords',
      found: n,
      expected: `>= ${C}`,
    });
  }
  // Separate streams: the seed-point draw and the member draw never disturb each other.
  const seedRng = trainerRng(opts.seed, 101);
  const memberRng = trainerRng(opts.seed, 102);
  let seeds: number[];
  const cap = opts.nGroups;
  if (cap !== undefined && cap < n) {
    if (!(Number.isInteger(cap) && cap >= 1)) {
      throw new StudyError('BAD_INPUT', 'n_groups must be a positive integer', { key: 'n_groups', found: cap });
    }
    seeds = sampleWithoutReplacement(
      seedRng,
      Array.from({ length: n }, (_, i) => i),
      cap,
    );
  } else {
    seeds = Array.from({ length: n }, (_, i) => i);
  }
  const G = seeds.length;
  const indices = new Int32Array(G * C);
  const offsets = new Float32Array(G * C * 2);
  for (let gi = 0; gi < G; gi++) {
    const s = seeds[gi];
    let members: number[];
    if (C === 1) members = [s];
    else if (rule === 'nearest') members = [s, ...nearestNeighbours(xs, ys, s, C - 1)];
    else {
      const cand = nearestNeighbours(xs, ys, s, K);
      if (cand.length < C) cand.push(s);
      members = sampleWithoutReplacement(memberRng, cand, C);
    }
    let mx = 0;
    let my = 0;
    for (const m of members) {
      mx += xs[m];
      my += ys[m];
    }
    mx /= C;
    my /= C;
    for (let c = 0; c < C; c++) {
      const m = members[c];
      indices[gi * C + c] = m;
      offsets[(gi * C + c) * 2] = xs[m] - mx;
      offsets[(gi * C + c) * 2 + 1] = ys[m] - my;
    }
  }
  return {
    count: G,
    C,
    indices,
    offsets,
    rule,
    neighborCount: C > 1 && rule === 'random-knn' ? K : C - 1,
    seed: opts.seed,
  };
}

/** The original's `coords_relative` (local_offset_sign = −1): the negated offsets. */
export function originalCoordsRelative(groups: Groups): Float32Array {
  return groups.offsets.map((v) => -v);
}
