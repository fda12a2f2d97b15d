/** Tick and band choices for the loss chart's log and symmetric-log (asinh) y scales. */
/** ±10^k inside [min, max], with |v| ≥ floor (the symlog's linear band), plus 0 when spanned. */
export function decadeSplits(min: number, max: number, floor: number): number[] {
  const out: number[] = [];
  const side = (lo: number, hi: number, sign: 1 | -1) => {
    if (hi <= 0) return;
    const from = Math.floor(Math.log10(Math.max(lo, floor * 0.999, 1e-300)));
    for (let e = from; e <= Math.ceil(Math.log10(hi)); e++) {
      const v = 10 ** e;
      if (v >= lo && v <= hi && v >= floor * 0.999) out.push(sign * v);
    }
  };
  if (min < 0) side(Math.max(0, -max), -min, -1);
  if (min <= 0 && max >= 0) out.push(0);
  if (max > 0) side(Math.max(min, 0), max, 1);
  return out.sort((a, b) => a - b);
}

/** A power of ten at the 10th percentile of |loss| (sampled), so typical losses sit in the log part. */
export function linearBand(inputs: { y: Float64Array }[]): number {
  const sample: number[] = [];
  for (const { y } of inputs) {
    const stride = Math.max(1, Math.floor(y.length / 2000));
    for (let i = 0; i < y.length; i += stride) {
      const a = Math.abs(y[i]);
      if (a > 0 && Number.isFinite(a)) sample.push(a);
    }
  }
  if (sample.length === 0) return 1;
  sample.sort((a, b) => a - b);
  return 10 ** Math.floor(Math.log10(sample[Math.floor(sample.length * 0.1)]));
}
