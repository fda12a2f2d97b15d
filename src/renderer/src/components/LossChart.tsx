/**
 * Live training curves on uPlot (canvas). React renders the frame and the controls once;
 * data flows from the CurveStore straight into uPlot at the store's coalesced rate (see
 * useUplot), so a streaming study never re-renders React per event. What is drawn comes
 * from buildSeries: per job the raw values (thin, clearly visible), the smoothed line (bold;
 * outliers left out when asked), the validation loss per epoch (dashed, with markers) and
 * the loss references. The hover readout names the raw and the smoothed value both.
 */
import { forwardRef, useImperativeHandle, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import {
  type BuildCache,
  type BuildOptions,
  type BuiltSeries,
  buildSeries,
  createBuildCache,
  type ChartJob,
  type SeriesSpec,
  scalarLabel,
  X_AXES,
  type XAxisKind,
  withinDecade,
  yExtent,
} from '../lib/build-series';
import { chartCsv, chartJson, type ExportLine, exportName } from '../lib/chart-export';
import { withAlpha } from '../lib/colors';
import { envelope } from '../lib/envelope';
import { formatCount } from '../lib/format';
import { formatX, type ReadoutRow, readoutText } from '../lib/readout';
import { decadeSplits, linearBand } from '../lib/scales';
import { alignSeries } from '../lib/series';
import type { CurveStore } from '../stores/curves';
import { type ChartFrame, useUplot } from './useUplot';

export type { ChartJob } from '../lib/build-series';

interface Props extends BuildOptions {
  store: CurveStore;
  jobs: ChartJob[];
  logScale: boolean;
  theme: 'light' | 'dark';
}

interface DrawInfo {
  points: number;
  maxSeries: number;
  plotWidth: number;
  nonPositive: boolean;
  narrow: boolean;
  missingX: string[];
}

/** What the panel's download buttons call. */
export interface ChartExport {
  download(kind: 'csv' | 'json' | 'png'): void;
}

export const LossChart = forwardRef<ChartExport, Props>(function LossChart(
  { store, jobs, smoothing, ignoreOutliers, xAxis, scalar, logScale, theme },
  ref,
) {
  const host = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const cache = useRef<BuildCache>(createBuildCache());
  const specsRef = useRef<SeriesSpec[]>([]);
  const builtRef = useRef<Pick<BuiltSeries, 'points' | 'maxSeries' | 'nonPositive'>>({
    points: 0,
    maxSeries: 0,
    nonPositive: false,
  });
  const [info, setInfo] = useState<DrawInfo>({
    points: 0,
    maxSeries: 0,
    plotWidth: 0,
    nonPositive: false,
    missingX: [],
    narrow: false,
  });
  const lastInfo = useRef('');
  const yRange = useRef<{ min: number; max: number } | null>(null);
  /** Log scale asked for, but the values span less than a decade of one sign: drawn linear. */
  const narrowRef = useRef(false);

  const build = (): ChartFrame => {
    const b = buildSeries(
      jobs.map((job) => ({ job, curve: store.get(job.id) })),
      { smoothing, ignoreOutliers, xAxis, scalar },
      cache.current,
    );
    specsRef.current = b.specs;
    builtRef.current = b;
    yRange.current = yExtent(b.specs, ignoreOutliers);
    const { x, ys } = alignSeries(b.specs);
    const asinhLinear = b.nonPositive ? linearBand(b.specs) : 1;
    const narrow = logScale && withinDecade(yRange.current);
    narrowRef.current = narrow;
    const distr = !logScale || narrow ? 1 : b.nonPositive ? 4 : 3;
    const smoothedJobs = new Set(b.specs.filter((s) => s.kind === 'smoothed').map((s) => s.jobId));
    const series: uPlot.Series[] = [{ label: xAxis }, ...b.specs.map((s) => seriesStyle(s, smoothedJobs.has(s.jobId)))];
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue('--muted').trim() || '#888';
    const grid = css.getPropertyValue('--grid').trim() || 'rgba(128,128,128,0.15)';
    const unit = X_AXES.find((a) => a.key === xAxis)?.unit ?? xAxis;
    const yName = scalarLabel(scalar);
    return {
      data: [x, ...ys] as uPlot.AlignedData,
      series,
      keys: ['x', ...b.specs.map((s) => `${s.jobId}\u0000${s.kind}`)],
      frame: `${distr}|${asinhLinear}|${theme}|${xAxis}|${scalar}`,
      signature: b.signature,
      options: () => {
        const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
        return {
          legend: { show: false },
          scales: {
            x: { time: xAxis === 'wall' },
            y: {
              distr,
              log: 10,
              asinh: asinhLinear,
              // the data's range, less the outliers when they are ignored
              range: (_u: uPlot, dmin: number, dmax: number): uPlot.Range.MinMax => {
                const r = yRange.current ?? { min: dmin, max: dmax };
                if (distr === 3) return uPlot.rangeLog(r.min, r.max, 10, true);
                if (distr === 4) return uPlot.rangeAsinh(r.min, r.max, 10, false);
                return uPlot.rangeNum(r.min, r.max, 0.1, true);
              },
            },
          },
          axes: [
            { ...axis, label: unit, labelSize: 18 },
            {
              ...axis,
              label: distr === 3 ? `${yName} (log)` : distr === 4 ? `${yName} (symlog)` : yName,
              labelSize: 18,
              size: 64,
              // log-like scales: grid lines and labels at decades only (and zero), not at 2..9 × 10^k
              splits:
                distr === 1
                  ? undefined
                  : (_u: uPlot, _i: number, min: number, max: number) => decadeSplits(min, max, asinhLinear),
            },
          ],
          // uPlot's default cursor points must stay: its delSeries (used when a job joins the
          // chart) removes each series' point element and fails if there is none.
          cursor: { drag: { x: true, y: false, setScale: true } },
          hooks: { setCursor: [(u: uPlot) => renderReadout(u, readout.current, specsRef.current, xAxis, scalar)] },
        };
      },
    };
    // (info is reported from `after`, once the chart exists)
  };

  const chart = useUplot(
    host,
    build,
    (cb) => store.subscribe(cb),
    [store, jobs, smoothing, ignoreOutliers, xAxis, scalar, logScale, theme],
    (_frame, u) => {
      const { points, maxSeries, nonPositive } = builtRef.current;
      const plotWidth = u?.bbox.width ? u.bbox.width / devicePixelRatio : (host.current?.clientWidth ?? 0);
      const missingX = jobs
        .filter((j) => !specsRef.current.some((s) => s.jobId === j.id) && store.get(j.id)?.train.length)
        .map((j) => j.label);
      const narrow = narrowRef.current;
      const key = `${points}|${maxSeries}|${Math.round(plotWidth)}|${nonPositive}|${missingX.join(',')}|${narrow}`;
      if (key !== lastInfo.current) {
        lastInfo.current = key;
        setInfo({ points, maxSeries, plotWidth, nonPositive, missingX, narrow });
      }
    },
  );

  useImperativeHandle(ref, () => ({
    download(kind) {
      const meta = { scalar, xAxis, smoothing, ignoreOutliers };
      const name = exportName(meta, kind);
      if (kind === 'png') {
        const u = chart.plot.current;
        if (!u) return;
        const png = chartPng(u, specsRef.current, theme);
        if (png) saveUrl(png, name);
        return;
      }
      const lines: ExportLine[] = specsRef.current.map((s) => ({ job: s.label, kind: s.kind, x: s.x, y: s.y }));
      const text = kind === 'csv' ? chartCsv(lines, meta) : chartJson(lines, meta);
      const url = URL.createObjectURL(new Blob([text], { type: kind === 'csv' ? 'text/csv' : 'application/json' }));
      saveUrl(url, name);
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  }));

  const decimated = info.maxSeries > info.plotWidth && info.plotWidth > 0;
  return (
    <div className="chart">
      <div
        className="chart-canvas"
        ref={host}
        role="img"
        aria-label={`${scalarLabel(scalar)} curves by ${xAxis}, ${formatCount(info.points)} points`}
      >
        {info.points === 0 && (
          <p className="muted chart-empty">No {scalarLabel(scalar)} points yet for the shown jobs.</p>
        )}
      </div>
      <div className="chart-foot">
        <div className="chart-readout" ref={readout} aria-live="off" data-testid="chart-readout" />
        <div className="chart-notes">
          <span data-testid="chart-points">{formatCount(info.points)} points</span>
          {decimated && (
            <span className="note" title="uPlot draws each pixel column as the min–max of the points in it">
              {' '}
              · drawn as a per-pixel min/max envelope ({formatCount(info.maxSeries)} points in{' '}
              {Math.round(info.plotWidth)} px; every point counted — zoom in to see each one)
            </span>
          )}
          {logScale && info.narrow && (
            <span className="note" title="a log scale would squeeze values that span less than a factor of ten">
              · y linear: values within one decade
            </span>
          )}
          {logScale && !info.narrow && info.nonPositive && (
            <span className="note" title="values ≤ 0 present: y uses a symmetric log (asinh) scale">
              · values ≤ 0: symmetric log (asinh) y
            </span>
          )}
          {info.missingX.length > 0 && (
            <span className="note">
              {' '}
              · not drawn by {xAxis} (no {xAxis === 'epoch' ? 'steps per epoch' : 'times'} recorded):{' '}
              {info.missingX.join(', ')}
            </span>
          )}
          <button
            type="button"
            className="link"
            onClick={chart.resetZoom}
            title="Hover the chart for values · drag to zoom · double-click or Reset zoom to see all"
          >
            Reset zoom
          </button>
        </div>
      </div>
    </div>
  );
});

function seriesStyle(s: SeriesSpec, hasSmoothed: boolean): uPlot.Series {
  switch (s.kind) {
    case 'raw':
      // under a smoothed line the raw one is thinner and lighter, but clearly there
      return {
        label: `${s.label} (raw)`,
        stroke: hasSmoothed ? withAlpha(s.color, 0.55) : s.color,
        width: hasSmoothed ? 1 : 1.5,
        points: { show: fewPoints, size: 4 },
        paths: envelopePaths,
      };
    case 'smoothed':
      return {
        label: `${s.label} (smoothed)`,
        stroke: s.color,
        width: 2.25,
        points: { show: false },
        paths: envelopePaths,
      };
    case 'val':
      return {
        label: `${s.label} (validation)`,
        stroke: s.color,
        width: 1.5,
        dash: [6, 4],
        spanGaps: true,
        points: { show: true, size: 6, fill: s.color },
      };
    default:
      return {
        label: `${s.label} (${s.kind === 'meanPattern' ? 'mean pattern' : 'true object'})`,
        stroke: withAlpha(s.color, 0.6),
        width: 1,
        dash: s.kind === 'meanPattern' ? [2, 4] : [8, 3, 2, 3],
        spanGaps: true,
        points: { show: false },
      };
  }
}

/** Mark each point while few are in view (a run's first steps), so a one-point curve is visible. */
const fewPoints = (_u: uPlot, _seriesIdx: number, idx0: number, idx1: number): boolean => idx1 - idx0 < 40;

/**
 * Line paths for the per-step curves: the min/max envelope per pixel column (lib/envelope),
 * which visits every point but transforms and draws only a few per column. uPlot's own
 * line builder does the same decimation, but maps every point to pixels first.
 */
const envelopePaths: uPlot.Series.PathBuilder = (u, seriesIdx, idx0, idx1) => {
  // x is a linear scale: one affine map instead of a valToPos call per point
  const x0 = u.valToPos(0, 'x', true);
  const x1 = u.valToPos(1, 'x', true);
  const e = envelope(u.data[0], u.data[seriesIdx] as ArrayLike<number | null>, idx0, idx1, x0, x1 - x0);
  const stroke = new Path2D();
  for (let i = 0; i < e.length; i++) {
    const py = u.valToPos(e.ys[i], 'y', true);
    if (i === 0) stroke.moveTo(e.xs[i] + 0.5, py);
    else stroke.lineTo(e.xs[i] + 0.5, py);
  }
  return { stroke, fill: null, clip: null, band: null, flags: 0 };
};

/** Index of the point nearest to x in a sorted array, or -1 when empty. */
function nearest(xs: Float64Array, x: number): number {
  if (xs.length === 0) return -1;
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo === xs.length) return lo - 1;
  if (lo > 0 && x - xs[lo - 1] < xs[lo] - x) return lo - 1;
  return lo;
}

/**
 * The hover readout, written straight to the DOM (it changes on every mouse move): one row
 * per job with its values at the point nearest the pointer. Each line is looked up in its
 * own x, so jobs logged at different times (time axes) all show; a validation or reference
 * value only when its point is within a few pixels.
 */
function renderReadout(
  u: uPlot,
  el: HTMLDivElement | null,
  specs: SeriesSpec[],
  axis: XAxisKind,
  scalar: string,
): void {
  if (!el) return;
  el.textContent = '';
  const left = u.cursor.left;
  if (u.cursor.idx === null || u.cursor.idx === undefined || left === undefined || left < 0) return;
  const xv = u.posToVal(left, 'x');
  const rows = new Map<string, ReadoutRow & { label: string }>();
  let headX: number | null = null;
  for (const s of specs) {
    const j = nearest(s.x, xv);
    if (j < 0) continue;
    const v = s.y[j];
    if (!Number.isFinite(v)) continue;
    if (s.kind !== 'raw' && s.kind !== 'smoothed' && Math.abs(u.valToPos(s.x[j], 'x') - left) > 6) continue;
    if (s.kind === 'raw' && headX === null) headX = s.x[j];
    const row = rows.get(s.jobId) ?? { color: s.color, label: s.label };
    row[s.kind] = v;
    if (s.kind === 'smoothed' && s.outlier?.[j]) row.outlier = true;
    rows.set(s.jobId, row);
  }
  const head = document.createElement('strong');
  head.textContent = formatX(headX ?? xv, axis);
  el.append(head);
  for (const r of rows.values()) {
    const span = document.createElement('span');
    span.className = 'readout-row';
    const sw = document.createElement('i');
    sw.style.background = r.color;
    span.append(sw, `${r.label}: ${readoutText(scalar, r)}`);
    el.append(span);
  }
}

function saveUrl(url: string, name: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

/** The chart's canvas on the theme's background, with a legend line naming each job. */
function chartPng(u: uPlot, specs: SeriesSpec[], theme: 'light' | 'dark'): string | null {
  const src = u.ctx.canvas;
  const jobs = [...new Map(specs.map((s) => [s.jobId, s])).values()];
  const scale = src.width / Math.max(1, u.width);
  const legendH = Math.ceil(22 * scale);
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height + legendH;
  const ctx = out.getContext('2d');
  if (!ctx) return null;
  const css = getComputedStyle(document.documentElement);
  ctx.fillStyle = css.getPropertyValue('--panel').trim() || (theme === 'dark' ? '#1b1e24' : '#ffffff');
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.font = `${Math.round(12 * scale)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  let x = 8 * scale;
  for (const s of jobs) {
    ctx.fillStyle = s.color;
    ctx.fillRect(x, legendH / 2 - 5 * scale, 10 * scale, 10 * scale);
    x += 14 * scale;
    ctx.fillStyle = css.getPropertyValue('--fg').trim() || '#222';
    ctx.fillText(s.label, x, legendH / 2);
    x += ctx.measureText(s.label).width + 16 * scale;
  }
  ctx.drawImage(src, 0, legendH);
  return out.toDataURL('image/png');
}
