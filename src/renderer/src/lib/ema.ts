/**
 * Debiased exponential moving average, as TensorBoard smooths loss curves: the running
 * average starts at zero and is divided by (1 − wⁿ), so the first points are not dragged
 * towards zero. Non-finite values are passed through as NaN and do not touch the average.
 * The state is kept so a streaming curve extends its smoothed line in O(new points).
 */
export interface EmaState {
  /** Smoothing weight in [0, 1): 0 = raw. */
  weight: number;
  /** Biased running average. */
  acc: number;
  /** Number of finite values folded in so far. */
  count: number;
  /** weight^count, kept as a running product (Math.pow per point is the slow part). */
  power: number;
  /** How many input points have been processed. */
  done: number;
}

export function emaState(weight: number): EmaState {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  return { weight, acc: 0, count: 0, power: 1, done: 0 };
}

/** Smooth y[state.done .. n) into out[...] (same indices), advancing the state. */
export function extendEma(y: ArrayLike<number>, n: number, out: Float64Array, state: EmaState): void {
  const w = state.weight;
  let acc = state.acc;
  let count = state.count;
  let power = state.power;
  const u = 1 - w;
  for (let i = state.done; i < n; i++) {
    const v = y[i];
    // v - v is NaN for ±Infinity and NaN: one test for "not finite"
    if (v - v !== 0) {
      out[i] = Number.NaN;
      continue;
    }
    acc = w * acc + u * v;
    count++;
    // once w^count underflows below 1e-17 the debias factor is exactly 1
    if (power > 1e-17) power *= w;
    else power = 0;
    out[i] = w === 0 ? v : acc / (1 - power);
  }
  state.acc = acc;
  state.count = count;
  state.power = power;
  state.done = n;
}

/** One-shot convenience over a whole array. */
export function debiasedEma(y: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(y.length);
  extendEma(y, y.length, out, emaState(weight));
  return out;
}
