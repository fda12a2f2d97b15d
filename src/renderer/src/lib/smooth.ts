/**
 * Curve smoothing that can ignore outliers. The smoothed line is TensorBoard's debiased
 * EMA; with `ignoreOutliers` a point that lies more than k robust standard deviations
 * (1.4826 · MAD) from the median of its neighbourhood (Hampel's test) is left out of the
 * average, so one loss spike at step 2 no longer drags the line for the next hundred steps.
 * The raw values are never changed: the chart draws them as they are and the readout
 * labels the raw and the smoothed value both.
 *
 * Streaming: a point's test needs `halfWindow` later points, so the state keeps the EMA at
 * the last block whose tests are final and recomputes only the open tail on each extension.
 */
export interface SmoothOptions {
  /** EMA weight in [0, 1): 0 = raw (no averaging; outliers are still flagged). */
  weight: number;
  ignoreOutliers: boolean;
  /** Points on each side of the tested one (the window holds 2·halfWindow + 1). */
  halfWindow?: number;
  /** Threshold in robust standard deviations (1.4826 · MAD). */
  k?: number;
}

export const DEFAULT_HALF_WINDOW = 7;
export const DEFAULT_K = 5;

export interface SmoothState {
  readonly weight: number;
  readonly ignoreOutliers: boolean;
  readonly halfWindow: number;
  readonly k: number;
  /** Smoothed values (same indices as the input); grows as needed. */
  out: Float64Array;
  /** 1 where the point was left out of the average as an outlier. */
  outlier: Uint8Array;
  /** Points [0, committed) are final: their outlier tests saw a full window. */
  committed: number;
  /** EMA accumulator, count of averaged points and weight^count at `committed`. */
  acc: number;
  count: number;
  power: number;
  /** Points processed by the last call (the input length then). */
  done: number;
}

export function smoothState(o: SmoothOptions): SmoothState {
  if (!(o.weight >= 0 && o.weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${o.weight}`);
  const halfWindow = o.halfWindow ?? DEFAULT_HALF_WINDOW;
  const k = o.k ?? DEFAULT_K;
  if (!(Number.isInteger(halfWindow) && halfWindow >= 1))
    throw new RangeError(`halfWindow must be an integer ≥ 1, got ${halfWindow}`);
  if (!(k > 0)) throw new RangeError(`k must be > 0, got ${k}`);
  return {
    weight: o.weight,
    ignoreOutliers: o.ignoreOutliers,
    halfWindow,
    k,
    out: new Float64Array(256),
    outlier: new Uint8Array(256),
    committed: 0,
    acc: 0,
    count: 0,
    power: 1,
    done: 0,
  };
}

/** Points per block: every point of a block is tested against the same window statistics. */
export const BLOCK = 16;

/**
 * Bring the state up to y[0..n): smoothed values in `state.out[0..n)`, outlier marks in
 * `state.outlier[0..n)`. y must only have grown since the last call (a replaced or cut
 * curve needs a fresh state).
 *
 * The outlier test runs per block of BLOCK points against the median and MAD of the block
 * and `halfWindow` points on either side (one sort per block, not per point): a million
 * points cost a few tens of milliseconds.
 */
export function extendSmooth(y: ArrayLike<number>, n: number, state: SmoothState): void {
  if (n < state.done) throw new RangeError(`the curve shrank from ${state.done} to ${n} points: start a new state`);
  ensureCapacity(state, n);
  const { weight: w, ignoreOutliers, halfWindow: h, k, out, outlier } = state;
  const start = state.committed;
  let acc = state.acc;
  let count = state.count;
  let power = state.power;
  const u = 1 - w;
  const scratch = ignoreOutliers ? new Float64Array(BLOCK + 2 * h) : null;

  // Blocks [start, commitAt) get a full window now and are final; the state is kept there.
  const commitAt = ignoreOutliers ? start + Math.max(0, Math.floor((n - h - start) / BLOCK)) * BLOCK : n;

  for (let s = start; s < n; s += BLOCK) {
    const e = Math.min(n, s + BLOCK);
    if (s === commitAt) {
      state.committed = s;
      state.acc = acc;
      state.count = count;
      state.power = power;
    }
    let med = 0;
    let limit = Number.POSITIVE_INFINITY;
    if (scratch) {
      let len = 0;
      for (let j = Math.max(0, s - h), end = Math.min(n, e + h); j < end; j++) {
        const v = y[j];
        if (v - v === 0) scratch[len++] = v;
      }
      if (len >= 3) {
        const win = scratch.subarray(0, len).sort();
        med = median(win, len);
        const mad = medianAbsDeviation(win, len, med);
        // a window of (nearly) identical values: any clear departure counts
        limit = k * Math.max(1.4826 * mad, 1e-9 * Math.abs(med), Number.MIN_VALUE);
      }
    }
    for (let i = s; i < e; i++) {
      const v = y[i];
      if (v - v !== 0) {
        // v - v is NaN for ±Infinity and NaN: one test for "not finite"
        out[i] = Number.NaN;
        outlier[i] = 0;
        continue;
      }
      if (Math.abs(v - med) > limit && scratch && sticksOut(y, n, i) && outlierInOwnWindow(y, n, i, h, k, scratch)) {
        outlier[i] = 1;
        out[i] = count === 0 ? Number.NaN : w === 0 ? lastAveraged(out, outlier, y, i) : acc / (1 - power);
        continue;
      }
      outlier[i] = 0;
      acc = w * acc + u * v;
      count++;
      // once w^count underflows below 1e-17 the debias factor is exactly 1
      if (power > 1e-17) power *= w;
      else power = 0;
      out[i] = w === 0 ? v : acc / (1 - power);
    }
  }
  if (commitAt >= n) {
    state.committed = n;
    state.acc = acc;
    state.count = count;
    state.power = power;
  }
  state.done = n;
}

/** With no averaging, a skipped point shows the last value that was kept. */
function lastAveraged(out: Float64Array, outlier: Uint8Array, y: ArrayLike<number>, i: number): number {
  for (let j = i - 1; j >= 0; j--) if (!outlier[j] && y[j] - y[j] === 0) return out[j];
  return Number.NaN;
}

/**
 * A spike sticks out beyond both neighbours (or stays level with one, for a spike two points
 * wide); a point between its neighbours is part of a steep but real change — the loss
 * falling fast in the first steps — and is kept. The first and the last point have one
 * neighbour only and are kept (the last is tested again once the next one arrives).
 */
function sticksOut(y: ArrayLike<number>, n: number, i: number): boolean {
  if (i === 0 || i === n - 1) return false;
  const a = y[i - 1];
  const c = y[i + 1];
  if (a - a !== 0 || c - c !== 0) return true;
  const v = y[i];
  return (v - a) * (c - v) <= 0;
}

/**
 * Hampel's test against the point's own centred window [i − h, i + h]. A block's window can
 * straddle a level shift (the loss drops and stays down); the points of the old level are
 * then not outliers of their own neighbourhood.
 */
function outlierInOwnWindow(
  y: ArrayLike<number>,
  n: number,
  i: number,
  h: number,
  k: number,
  scratch: Float64Array,
): boolean {
  let len = 0;
  for (let j = Math.max(0, i - h), end = Math.min(n, i + h + 1); j < end; j++) {
    const v = y[j];
    if (v - v === 0) scratch[len++] = v;
  }
  if (len < 3) return false;
  const win = scratch.subarray(0, len).sort();
  const med = median(win, len);
  const mad = medianAbsDeviation(win, len, med);
  return Math.abs(y[i] - med) > k * Math.max(1.4826 * mad, 1e-9 * Math.abs(med), Number.MIN_VALUE);
}

function median(win: Float64Array, len: number): number {
  const m = len >>> 1;
  return len % 2 ? win[m] : (win[m - 1] + win[m]) / 2;
}

/**
 * The median of |win − med| without sorting again: the deviations in increasing order are a
 * merge of the values below the median (walking down) and above it (walking up).
 */
function medianAbsDeviation(win: Float64Array, len: number, med: number): number {
  // first index with win[i] >= med
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (win[mid] < med) lo = mid + 1;
    else hi = mid;
  }
  let left = lo - 1;
  let right = lo;
  const want = len >>> 1; // 0-based rank of the upper median
  let prev = 0;
  let cur = 0;
  for (let r = 0; r <= want; r++) {
    const dl = left >= 0 ? med - win[left] : Number.POSITIVE_INFINITY;
    const dr = right < len ? win[right] - med : Number.POSITIVE_INFINITY;
    prev = cur;
    if (dl <= dr) {
      cur = dl;
      left--;
    } else {
      cur = dr;
      right++;
    }
  }
  return len % 2 ? cur : (prev + cur) / 2;
}

function ensureCapacity(state: SmoothState, n: number): void {
  if (state.out.length >= n) return;
  const cap = Math.max(n, state.out.length * 2);
  const out = new Float64Array(cap);
  out.set(state.out.subarray(0, state.done));
  const flags = new Uint8Array(cap);
  flags.set(state.outlier.subarray(0, state.done));
  state.out = out;
  state.outlier = flags;
}

/** One-shot convenience over a whole array. */
export function smooth(y: ArrayLike<number>, o: SmoothOptions): { smoothed: Float64Array; outlier: Uint8Array } {
  const st = smoothState(o);
  extendSmooth(y, y.length, st);
  return { smoothed: st.out.slice(0, y.length), outlier: st.outlier.slice(0, y.length) };
}
