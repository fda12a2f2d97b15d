/**
 * What the chart draws, as data: for each shown job and the chosen scalar, its raw line,
 * its smoothed line (outliers left out when asked), its validation points and the loss
 * references, each on the chosen x axis (step, epoch, time since the job's first point,
 * wall time). Pure apart from the caches it is handed, so it is unit-tested without a DOM;
 * the chart (useUplot) turns the result into uPlot series.
 */
import type { JobCurve } from '../stores/curves';
import type { Series } from './series';
import { extendSmooth, type SmoothState, smoothState } from './smooth';

export type XAxisKind = 'step' | 'epoch' | 'relative' | 'wall';

export const X_AXES: { key: XAxisKind; label: string; unit: string }[] = [
  { key: 'step', label: 'Step', unit: 'step' },
  { key: 'epoch', label: 'Epoch', unit: 'epoch' },
  { key: 'relative', label: 'Relative time', unit: 'seconds since the first point' },
  { key: 'wall', label: 'Wall time', unit: 'time of day' },
];

/** `loss` or a per-step scalar's name as the store keeps it (lr, samples_per_s, grad_norm, loss_terms.<term>). */
export type ScalarKey = string;

export interface ChartJob {
  id: string;
  label: string;
  color: string;
}

export interface BuildOptions {
  xAxis: XAxisKind;
  scalar: ScalarKey;
  smoothing: number;
  ignoreOutliers: boolean;
}

export type SeriesKind = 'raw' | 'smoothed' | 'val' | 'meanPattern' | 'floor';

export interface SeriesSpec {
  jobId: string;
  label: string;
  color: string;
  kind: SeriesKind;
  x: Float64Array;
  y: Float64Array;
  /** For a smoothed line: 1 where the raw point was left out as an outlier (same indices as x). */
  outlier?: Uint8Array;
}

export interface BuiltSeries {
  specs: SeriesSpec[];
  /** Points of the chosen scalar across the shown jobs. */
  points: number;
  /** Longest single line (for the envelope note). */
  maxSeries: number;
  nonPositive: boolean;
  /** Shown jobs that have no data for this x axis (e.g. no times: loaded without events). */
  missingX: string[];
  /** Which lines are drawn (a change means new uPlot series, not only new data). */
  signature: string;
}

/** Caches that survive between builds: smoothed lines and converted x arrays, per job. */
export interface BuildCache {
  smooth: Map<string, { generation: number; state: SmoothState }>;
  x: Map<
    string,
    { generation: number; n: number; out: Float64Array; origin: number; spe: number | null; unit: number }
  >;
}

export function createBuildCache(): BuildCache {
  return { smooth: new Map(), x: new Map() };
}

/** Scalars a set of curves offers, loss first. */
export function availableScalars(curves: readonly (JobCurve | undefined)[]): ScalarKey[] {
  const names = new Set<string>();
  for (const c of curves) if (c) for (const [k, s] of c.scalars) if (s.length) names.add(k);
  return ['loss', ...[...names].sort()];
}

/** A scalar's name for people. */
export function scalarLabel(key: ScalarKey): string {
  const known: Record<string, string> = {
    loss: 'loss',
    lr: 'learning rate',
    samples_per_s: 'samples/s',
    grad_norm: 'gradient norm',
    wall_s: 'wall time per step (s)',
  };
  if (known[key]) return known[key];
  const dot = key.indexOf('.');
  if (dot > 0) return `${key.slice(dot + 1).replace(/_/g, ' ')} (${key.slice(0, dot).replace(/_/g, ' ')})`;
  return key.replace(/_/g, ' ');
}

export function buildSeries(
  jobs: readonly { job: ChartJob; curve: JobCurve | undefined }[],
  o: BuildOptions,
  cache: BuildCache,
): BuiltSeries {
  const specs: SeriesSpec[] = [];
  const sig: string[] = [`x:${o.xAxis}`, `s:${o.scalar}`];
  const missingX: string[] = [];
  let points = 0;
  let maxSeries = 0;
  let nonPositive = false;
  const seen = (y: Float64Array) => {
    if (nonPositive) return;
    for (let i = 0; i < y.length; i++)
      if (y[i] <= 0) {
        nonPositive = true;
        return;
      }
  };

  for (const { job, curve: c } of jobs) {
    if (!c) continue;
    const main: Series | undefined = o.scalar === 'loss' ? c.train : c.scalars.get(o.scalar);
    const val = o.scalar === 'loss' ? c.val : undefined;
    if ((!main || main.length === 0) && (!val || val.length === 0)) continue;
    const xMain = main?.length
      ? toX(cache, `${job.id}|${o.scalar}`, c, main.x, timesFor(c, 'train', o.xAxis), o.xAxis)
      : null;
    if (main?.length && !xMain) {
      missingX.push(job.label);
      continue;
    }
    if (main && xMain) {
      const y = main.y;
      points += y.length;
      maxSeries = Math.max(maxSeries, y.length);
      seen(y);
      specs.push({ jobId: job.id, label: job.label, color: job.color, kind: 'raw', x: xMain, y });
      sig.push(`${job.id}:r`);
      if (o.smoothing > 0 || o.ignoreOutliers) {
        const st = smoothedFor(cache, `${job.id}|${o.scalar}`, c.generation, y, o);
        specs.push({
          jobId: job.id,
          label: job.label,
          color: job.color,
          kind: 'smoothed',
          x: xMain,
          y: st.out.subarray(0, y.length),
          outlier: st.outlier.subarray(0, y.length),
        });
        sig.push(`${job.id}:s`);
      }
    }
    if (val?.length) {
      const xv = toX(cache, `${job.id}|val`, c, val.x, timesFor(c, 'val', o.xAxis), o.xAxis);
      if (xv) {
        points += val.length;
        seen(val.y);
        specs.push({ jobId: job.id, label: job.label, color: job.color, kind: 'val', x: xv, y: val.y });
        sig.push(`${job.id}:v`);
      }
    }
    if (o.scalar === 'loss' && (o.xAxis === 'step' || o.xAxis === 'epoch')) {
      // how far the job is from "learned nothing" (mean pattern) and from "perfect" (true object)
      for (const [s, kind] of [
        [c.meanPattern, 'meanPattern'],
        [c.floor, 'floor'],
      ] as const) {
        if (!s.length) continue;
        const xr = toX(cache, `${job.id}|${kind}`, c, s.x, null, o.xAxis);
        if (!xr) continue;
        seen(s.y);
        specs.push({ jobId: job.id, label: job.label, color: job.color, kind, x: xr, y: s.y });
        sig.push(`${job.id}:${kind}`);
      }
    }
  }
  return { specs, points, maxSeries, nonPositive, missingX, signature: sig.join('|') };
}

function smoothedFor(
  cache: BuildCache,
  key: string,
  generation: number,
  y: Float64Array,
  o: BuildOptions,
): SmoothState {
  const skey = `${key}|${o.smoothing}|${o.ignoreOutliers}`;
  let s = cache.smooth.get(skey);
  if (!s || s.generation !== generation || s.state.done > y.length) {
    s = { generation, state: smoothState({ weight: o.smoothing, ignoreOutliers: o.ignoreOutliers }) };
    cache.smooth.set(skey, s);
  }
  extendSmooth(y, y.length, s.state);
  return s.state;
}

/**
 * The clock for a time axis. Relative time is the job's training time (`elapsed_s`, summed
 * over its attempts, so a resume does not open a gap) when every point has it; otherwise,
 * and for files written before it existed, the wall clock since the first point.
 */
function timesFor(c: JobCurve, which: 'train' | 'val', axis: XAxisKind): { series: Series; elapsed: boolean } | null {
  if (axis === 'relative') {
    const elapsed = which === 'train' ? c.trainElapsed : c.valElapsed;
    const all = which === 'train' ? c.train : c.val;
    if (elapsed.length > 0 && elapsed.length === all.length) return { series: elapsed, elapsed: true };
  }
  return { series: which === 'train' ? c.trainTime : c.valTime, elapsed: false };
}

/**
 * Steps → the chosen x axis. Step: the steps themselves (no copy). Epoch: step / steps per
 * epoch (a point at the end of epoch e sits at e + 1). Relative: seconds since the curve's
 * first point. Wall: seconds since 1970 (uPlot's time scale). Null when the curve lacks what
 * the axis needs (no times recorded, or steps per epoch unknown).
 */
export function toX(
  cache: BuildCache,
  key: string,
  c: JobCurve,
  steps: Float64Array,
  clock: { series: Series; elapsed: boolean } | null,
  axis: XAxisKind,
): Float64Array | null {
  const times = clock?.series ?? null;
  if (axis === 'step') return steps;
  const n = steps.length;
  const spe = c.stepsPerEpoch;
  if (axis === 'epoch' && !spe) return null;
  if (axis !== 'epoch' && (!times || times.length === 0)) return null;
  const ckey = `${key}|${axis}`;
  let e = cache.x.get(ckey);
  const origin = axis === 'relative' && !clock?.elapsed && c.trainTime.length ? c.trainTime.y[0] : 0;
  // elapsed_s is in seconds already; wall times are ms
  const unit = clock?.elapsed ? 1 : 1000;
  if (!e || e.generation !== c.generation || e.n > n || e.spe !== spe || e.origin !== origin || e.unit !== unit) {
    e = { generation: c.generation, n: 0, out: new Float64Array(Math.max(64, n)), origin, spe, unit };
    cache.x.set(ckey, e);
  }
  if (e.out.length < n) {
    const grown = new Float64Array(Math.max(n, e.out.length * 2));
    grown.set(e.out.subarray(0, e.n));
    e.out = grown;
  }
  for (let i = e.n; i < n; i++) {
    if (axis === 'epoch') e.out[i] = steps[i] / (spe as number);
    else {
      const ms = timeAt(times as Series, steps[i], i);
      e.out[i] = (ms - origin) / unit;
    }
  }
  // a time that did not parse would break the sorted x the chart needs
  if (axis !== 'epoch') for (let i = e.n; i < n; i++) if (!Number.isFinite(e.out[i])) return null;
  e.n = n;
  return e.out.subarray(0, n);
}

/** The time recorded at a step: at the same index when the series share their steps, else by search. */
function timeAt(times: Series, step: number, i: number): number {
  const tx = times.x;
  if (i < tx.length && tx[i] === step) return times.y[i];
  let lo = 0;
  let hi = tx.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tx[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  return lo < tx.length && tx[lo] === step ? times.y[lo] : Number.NaN;
}

/**
 * The y range of what is drawn. With `ignoreOutliers` the raw points left out of the
 * smoothing do not stretch it (TensorBoard's "ignore outliers in chart scaling"): a 10⁴
 * spike runs off the top instead of flattening a loss that moves between −140 and −139.
 */
export function yExtent(specs: readonly SeriesSpec[], ignoreOutliers: boolean): { min: number; max: number } | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const flags = new Map<string, Uint8Array>();
  if (ignoreOutliers) for (const s of specs) if (s.kind === 'smoothed' && s.outlier) flags.set(s.jobId, s.outlier);
  for (const s of specs) {
    const skip = s.kind === 'raw' ? flags.get(s.jobId) : undefined;
    const y = s.y;
    for (let i = 0; i < y.length; i++) {
      const v = y[i];
      if (v - v !== 0 || skip?.[i]) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min <= max ? { min, max } : null;
}

/** Both ends of one sign and less than a factor of ten apart: a log axis would show a flat line. */
export function withinDecade(r: { min: number; max: number } | null): boolean {
  if (!r) return false;
  if (r.min > 0) return r.max / r.min < 10;
  if (r.max < 0) return r.min / r.max < 10;
  return false;
}
