/**
 * Min/max envelope of a dense line, per pixel column: each column keeps the first, lowest,
 * highest and last value of the points that fall in it, so spikes and the line's path
 * survive exactly while a million points cost a few thousand vertices. Extremes are found
 * in data space (the y transforms we draw with — linear, log, asinh — are monotonic), so
 * only four values per column are transformed. Nothing is dropped: every point is visited.
 */
export interface Envelope {
  /** Column x in pixels and y values (data space) in drawing order. */
  xs: Float64Array;
  ys: Float64Array;
  length: number;
  /** Points folded in (non-null, finite). */
  points: number;
}

export function envelope(
  x: ArrayLike<number>,
  y: ArrayLike<number | null>,
  idx0: number,
  idx1: number,
  /** pixel = offset + scale · x (x axes here are linear); the pixel is floored to a column */
  offset: number,
  scale: number,
): Envelope {
  const cap = 1024;
  let xs = new Float64Array(cap);
  let ys = new Float64Array(cap);
  let n = 0;
  let points = 0;
  const push = (px: number, v: number) => {
    if (n === xs.length) {
      const nx = new Float64Array(n * 2);
      const ny = new Float64Array(n * 2);
      nx.set(xs);
      ny.set(ys);
      xs = nx;
      ys = ny;
    }
    xs[n] = px;
    ys[n] = v;
    n++;
  };
  let col = Number.NaN;
  let first = 0;
  let lo = 0;
  let hi = 0;
  let last = 0;
  let loAt = 0;
  let hiAt = 0;
  const flush = () => {
    if (Number.isNaN(col)) return;
    push(col, first);
    if (lo !== first || hi !== first || last !== first) {
      // draw the extremes in the order they occurred, so the line is not drawn backwards
      const [a, b] = loAt <= hiAt ? [lo, hi] : [hi, lo];
      if (a !== first) push(col, a);
      if (b !== a) push(col, b);
      if (last !== b) push(col, last);
    }
  };
  for (let i = idx0; i <= idx1; i++) {
    const v = y[i];
    if (v === null || v === undefined || v - v !== 0) continue;
    points++;
    const c = Math.floor(offset + scale * x[i]);
    if (c !== col) {
      flush();
      col = c;
      first = lo = hi = last = v;
      loAt = hiAt = i;
      continue;
    }
    if (v < lo) {
      lo = v;
      loAt = i;
    }
    if (v > hi) {
      hi = v;
      hiAt = i;
    }
    last = v;
  }
  flush();
  return { xs, ys, length: n, points };
}
