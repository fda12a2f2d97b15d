/**
 * Append-only (x, y) series in growable Float64Arrays: a million-point curve is two flat
 * buffers, handed to uPlot as subarray views without copying or boxing numbers.
 */
export class Series {
  private xs: Float64Array;
  private ys: Float64Array;
  length = 0;

  constructor(capacity = 256) {
    this.xs = new Float64Array(capacity);
    this.ys = new Float64Array(capacity);
  }

  push(x: number, y: number): void {
    if (this.length === this.xs.length) this.grow(this.length * 2);
    this.xs[this.length] = x;
    this.ys[this.length] = y;
    this.length++;
  }

  /** Take over two filled arrays as the whole series (no copy; the caller gives them up). */
  adopt(x: Float64Array, y: Float64Array): void {
    const n = Math.min(x.length, y.length);
    this.xs = x;
    this.ys = y;
    this.length = n;
  }

  /** Append many points at once (e.g. a whole events.jsonl on reload). */
  pushMany(x: ArrayLike<number>, y: ArrayLike<number>): void {
    const n = Math.min(x.length, y.length);
    if (this.length + n > this.xs.length) this.grow(Math.max(this.length + n, this.xs.length * 2));
    this.xs.set(x instanceof Float64Array ? x.subarray(0, n) : Array.from({ length: n }, (_, i) => x[i]), this.length);
    this.ys.set(y instanceof Float64Array ? y.subarray(0, n) : Array.from({ length: n }, (_, i) => y[i]), this.length);
    this.length += n;
  }

  get x(): Float64Array {
    return this.xs.subarray(0, this.length);
  }

  get y(): Float64Array {
    return this.ys.subarray(0, this.length);
  }

  get lastX(): number {
    return this.length ? this.xs[this.length - 1] : Number.NaN;
  }

  clear(): void {
    this.length = 0;
  }

  /**
   * Drop every point with x ≥ from. A resumed run restarts at its last checkpoint; the
   * steps logged after that checkpoint by the interrupted run are superseded, and keeping
   * them would leave x unsorted.
   */
  truncateFrom(from: number): void {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.xs[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    this.length = lo;
  }

  private grow(capacity: number): void {
    const xs = new Float64Array(capacity);
    const ys = new Float64Array(capacity);
    xs.set(this.xs.subarray(0, this.length));
    ys.set(this.ys.subarray(0, this.length));
    this.xs = xs;
    this.ys = ys;
  }
}

/**
 * Put several series on one sorted x axis (uPlot's aligned-data shape). Series that share
 * an x array (a raw and a smoothed line of one job) are merged once; points missing from
 * a series become null, which uPlot draws as a gap or bridges with spanGaps. When only one
 * distinct x array is involved (one job, or jobs at identical steps) nothing is copied.
 */
export function alignSeries(list: readonly { x: Float64Array; y: Float64Array }[]): {
  x: Float64Array;
  ys: (Float64Array | (number | null)[])[];
} {
  if (list.length === 0) return { x: new Float64Array(0), ys: [] };
  const distinct: Float64Array[] = [];
  for (const s of list) if (!distinct.some((d) => d === s.x || sameValues(d, s.x))) distinct.push(s.x);
  if (distinct.length === 1) return { x: distinct[0], ys: list.map((s) => s.y) };
  const x = mergeSorted(distinct);
  const ys = list.map((s) => {
    const out = new Array<number | null>(x.length).fill(null);
    let j = 0;
    for (let i = 0; i < s.x.length; i++) {
      while (x[j] < s.x[i]) j++;
      out[j] = s.y[i];
    }
    return out;
  });
  return { x, ys };
}

function mergeSorted(arrays: readonly Float64Array[]): Float64Array {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const xs = new Float64Array(total);
  const idx = new Array<number>(arrays.length).fill(0);
  let n = 0;
  for (;;) {
    let min = Number.POSITIVE_INFINITY;
    for (let k = 0; k < arrays.length; k++)
      if (idx[k] < arrays[k].length && arrays[k][idx[k]] < min) min = arrays[k][idx[k]];
    if (min === Number.POSITIVE_INFINITY) break;
    xs[n++] = min;
    for (let k = 0; k < arrays.length; k++) while (idx[k] < arrays[k].length && arrays[k][idx[k]] === min) idx[k]++;
  }
  return xs.subarray(0, n);
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
