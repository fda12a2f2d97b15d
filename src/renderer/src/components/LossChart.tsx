/**
 * Live loss curves on uPlot (canvas). React renders the frame and the controls once; data
 * flows from the CurveStore straight into uPlot at the store's coalesced rate, so a
 * streaming study never re-renders React per event. Per job: the raw training loss (faint),
 * its debiased EMA (bold) and the validation loss per epoch (dashed, with markers).
 */
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { withAlpha } from '../lib/colors';
import { type EmaState, emaState, extendEma } from '../lib/ema';
import { formatCount, formatLoss } from '../lib/format';
import { envelope } from '../lib/envelope';
import { decadeSplits, linearBand } from '../lib/scales';
import { alignSeries } from '../lib/series';
import type { CurveStore } from '../stores/curves';

export interface ChartJob {
  id: string;
  label: string;
  color: string;
}

interface Props {
  store: CurveStore;
  jobs: ChartJob[];
  smoothing: number;
  logScale: boolean;
  theme: 'light' | 'dark';
}

interface Smoothed {
  out: Float64Array;
  state: EmaState;
  /** The curve generation it was computed from (a replaced or cut curve starts over). */
  generation: number;
}

interface DrawInfo {
  points: number;
  maxSeries: number;
  plotWidth: number;
  nonPositive: boolean;
  /** Half-width of the linear band of the symmetric-log scale: a power of ten near the smallest typical |loss|. */
  asinhLinear: number;
}

/** `frame` (scale kind, theme) needs a new chart; `signature` (which lines) only new series. */
type Built = {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  meta: SeriesMeta[];
  frame: string;
  signature: string;
  info: DrawInfo;
};

/** What each uPlot series is, for the hover readout (grouped per job). */
interface SeriesMeta {
  job: string;
  color: string;
  kind: 'raw' | 'train' | 'val' | 'meanPattern' | 'floor';
}

export function LossChart({ store, jobs, smoothing, logScale, theme }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const readout = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoomed = useRef(false);
  const smoothCache = useRef(new Map<string, Smoothed>());
  const [info, setInfo] = useState<DrawInfo>({
    points: 0,
    maxSeries: 0,
    plotWidth: 0,
    nonPositive: false,
    asinhLinear: 1,
  });

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new smoothing weight is exactly what invalidates the cache
  useEffect(() => {
    // A new weight invalidates every cached EMA.
    smoothCache.current.clear();
  }, [smoothing]);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    let signature = '';
    let frame = '';
    let lastInfo = '';
    let meta: SeriesMeta[] = [];
    let wantLog = logScale;

    const smoothedFor = (id: string, generation: number, y: Float64Array): Float64Array => {
      let s = smoothCache.current.get(id);
      if (!s || s.generation !== generation || s.state.done > y.length) {
        s = { out: new Float64Array(Math.max(1024, y.length)), state: emaState(smoothing), generation };
        smoothCache.current.set(id, s);
      }
      if (s.out.length < y.length) {
        const grown = new Float64Array(y.length * 2);
        grown.set(s.out.subarray(0, s.state.done));
        s.out = grown;
      }
      extendEma(y, y.length, s.out, s.state);
      return s.out.subarray(0, y.length);
    };

    const build = (): Built => {
      const inputs: { x: Float64Array; y: Float64Array }[] = [];
      const series: uPlot.Series[] = [{ label: 'step' }];
      const meta: SeriesMeta[] = [{ job: '', color: '', kind: 'train' }];
      const sig: string[] = [];
      let points = 0;
      let maxSeries = 0;
      let nonPositive = false;
      for (const job of jobs) {
        const c = store.get(job.id);
        if (!c || c.train.length + c.val.length === 0) continue;
        const tx = c.train.x;
        const ty = c.train.y;
        points += c.train.length + c.val.length;
        maxSeries = Math.max(maxSeries, c.train.length);
        if (c.train.length) {
          for (let i = 0; i < ty.length && !nonPositive; i++) if (ty[i] <= 0) nonPositive = true;
          if (smoothing > 0) {
            inputs.push({ x: tx, y: ty });
            series.push({
              label: `${job.label} (raw)`,
              stroke: withAlpha(job.color, 0.3),
              width: 1,
              points: { show: false },
              paths: envelopePaths,
            });
            meta.push({ job: job.label, color: job.color, kind: 'raw' });
            inputs.push({ x: tx, y: smoothedFor(job.id, c.generation, ty) });
            series.push({
              label: `${job.label}`,
              stroke: job.color,
              width: 2,
              points: { show: fewPoints, size: 5 },
              paths: envelopePaths,
            });
            meta.push({ job: job.label, color: job.color, kind: 'train' });
            sig.push(`${job.id}:rs`);
          } else {
            inputs.push({ x: tx, y: ty });
            series.push({
              label: `${job.label}`,
              stroke: job.color,
              width: 1.5,
              points: { show: fewPoints, size: 5 },
              paths: envelopePaths,
            });
            meta.push({ job: job.label, color: job.color, kind: 'train' });
            sig.push(`${job.id}:r`);
          }
        }
        if (c.val.length) {
          const vy = c.val.y;
          for (let i = 0; i < vy.length && !nonPositive; i++) if (vy[i] <= 0) nonPositive = true;
          inputs.push({ x: c.val.x, y: vy });
          series.push({
            label: `${job.label} (validation)`,
            stroke: job.color,
            width: 1.5,
            dash: [6, 4],
            spanGaps: true,
            points: { show: true, size: 6, fill: job.color },
          });
          meta.push({ job: job.label, color: job.color, kind: 'val' });
          sig.push(`${job.id}:v`);
        }
        // how far the job is from "learned nothing" (mean pattern) and from "perfect" (true object)
        const refs = [
          { s: c.meanPattern, kind: 'meanPattern' as const, label: 'mean pattern', dash: [2, 4] },
          { s: c.floor, kind: 'floor' as const, label: 'true object', dash: [8, 3, 2, 3] },
        ];
        for (const r of refs) {
          if (!r.s.length) continue;
          for (let i = 0; i < r.s.y.length && !nonPositive; i++) if (r.s.y[i] <= 0) nonPositive = true;
          inputs.push({ x: r.s.x, y: r.s.y });
          series.push({
            label: `${job.label} (${r.label})`,
            stroke: withAlpha(job.color, 0.6),
            width: 1,
            dash: r.dash,
            spanGaps: true,
            points: { show: false },
          });
          meta.push({ job: job.label, color: job.color, kind: r.kind });
          sig.push(`${job.id}:${r.kind}`);
        }
      }
      const { x, ys } = alignSeries(inputs);
      const asinhLinear = nonPositive ? linearBand(inputs) : 1;
      const distr = !wantLog ? 'lin' : nonPositive ? `asinh:${asinhLinear}` : 'log';
      return {
        data: [x, ...ys] as uPlot.AlignedData,
        series,
        meta,
        frame: `${distr}|${theme}`,
        signature: sig.join('|'),
        info: { points, maxSeries, plotWidth: plot.current?.bbox.width ?? 0, nonPositive, asinhLinear },
      };
    };

    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue('--muted').trim() || '#888';
    const grid = css.getPropertyValue('--grid').trim() || 'rgba(128,128,128,0.15)';

    const make = (b: Built): uPlot => {
      const distr = b.frame.startsWith('asinh') ? 4 : b.frame.startsWith('log') ? 3 : 1;
      const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      const opts: uPlot.Options = {
        width: el.clientWidth || 600,
        height: Math.max(200, el.clientHeight || 300),
        legend: { show: false },
        scales: { x: { time: false }, y: { distr, log: 10, asinh: b.info.asinhLinear } },
        axes: [
          { ...axis, label: 'step', labelSize: 18 },
          {
            ...axis,
            label: distr === 3 ? 'loss (log)' : distr === 4 ? 'loss (symlog)' : 'loss',
            labelSize: 18,
            size: 64,
            // log-like scales: grid lines and labels at decades only (and zero), not at 2..9 × 10^k
            splits:
              distr === 1
                ? undefined
                : (_u: uPlot, _i: number, min: number, max: number) => decadeSplits(min, max, b.info.asinhLinear),
          },
        ],
        series: b.series,
        // uPlot's default cursor points must stay: its delSeries (used when a job joins the
        // chart) removes each series' point element and fails if there is none.
        cursor: { drag: { x: true, y: false, setScale: true } },
        hooks: {
          // uPlot also fires setSelect on its own commits (resize); only a real drag zooms.
          setSelect: [
            (u) => {
              if (u.select.width > 0) zoomed.current = true;
            },
          ],
          setCursor: [(u) => renderReadout(u, readout.current, meta)],
        },
      };
      return new uPlot(opts, b.data, el);
    };

    const refresh = () => {
      const t0 = performance.now();
      const b = build();
      const oldKeys = meta.map(seriesKey);
      meta = b.meta;
      const u = plot.current;
      if (!u || b.frame !== frame || b.series.length === 1) {
        u?.destroy();
        frame = b.frame;
        signature = b.signature;
        plot.current = b.series.length > 1 ? make(b) : null;
        zoomed.current = false;
      } else if (b.signature !== signature) {
        // A job started or gained a validation curve: swap the series, keep the chart
        // (rebuilding it mid-stream costs a long frame).
        signature = b.signature;
        const newKeys = b.meta.map(seriesKey);
        u.batch(() => {
          if (isSubsequence(oldKeys, newKeys)) {
            // the usual case: lines were only added — insert them where they belong
            for (let i = 1, j = 1; i < newKeys.length; i++) {
              if (newKeys[i] === oldKeys[j]) j++;
              else u.addSeries(b.series[i], i);
            }
          } else {
            for (let i = u.series.length - 1; i >= 1; i--) u.delSeries(i);
            for (let i = 1; i < b.series.length; i++) u.addSeries(b.series[i], i);
          }
          u.setData(b.data, !zoomed.current);
        });
      } else {
        u.setData(b.data, !zoomed.current);
      }
      b.info.plotWidth = plot.current?.bbox.width ? plot.current.bbox.width / devicePixelRatio : el.clientWidth;
      const key = `${b.info.points}|${b.info.maxSeries}|${Math.round(b.info.plotWidth)}|${b.info.nonPositive}`;
      if (key !== lastInfo) {
        lastInfo = key;
        setInfo(b.info);
      }
      // User timing: the UI benchmark reads how long each chart update took on the main thread.
      performance.measure('loss-chart-update', { start: t0 });
    };

    wantLog = logScale;
    refresh();
    const unsubscribe = store.subscribe(refresh);
    const ro = new ResizeObserver(() => {
      const u = plot.current;
      if (u) u.setSize({ width: el.clientWidth, height: Math.max(200, el.clientHeight) });
    });
    ro.observe(el);
    const onDbl = () => {
      zoomed.current = false;
    };
    el.addEventListener('dblclick', onDbl);
    return () => {
      unsubscribe();
      ro.disconnect();
      el.removeEventListener('dblclick', onDbl);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [store, jobs, smoothing, logScale, theme]);

  const resetZoom = () => {
    const u = plot.current;
    if (!u) return;
    zoomed.current = false;
    const x = u.data[0];
    if (x.length) u.setScale('x', { min: x[0] as number, max: x[x.length - 1] as number });
  };

  const decimated = info.maxSeries > info.plotWidth && info.plotWidth > 0;
  return (
    <div className="chart">
      <div
        className="chart-canvas"
        ref={host}
        role="img"
        aria-label={`Loss curves, ${formatCount(info.points)} points`}
      >
        {info.points === 0 && <p className="muted chart-empty">No loss points yet for the shown jobs.</p>}
      </div>
      <div className="chart-foot">
        <div className="chart-readout" ref={readout} aria-live="off" />
        <div className="chart-notes">
          <span data-testid="chart-points">{formatCount(info.points)} points</span>
          {decimated && (
            <span className="note" title="uPlot draws each pixel column as the min–max of the points in it">
              {' '}
              · drawn as a per-pixel min/max envelope ({formatCount(info.maxSeries)} points in{' '}
              {Math.round(info.plotWidth)} px; every point counted — zoom in to see each one)
            </span>
          )}
          {logScale && info.nonPositive && (
            <span className="note"> · losses ≤ 0 present: y uses a symmetric log (asinh) scale</span>
          )}
          <button type="button" className="link" onClick={resetZoom}>
            Reset zoom
          </button>
        </div>
      </div>
    </div>
  );
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

function seriesKey(m: SeriesMeta): string {
  return `${m.job}\u0000${m.kind}`;
}

/** Every element of `a` appears in `b`, in the same order. */
function isSubsequence(a: string[], b: string[]): boolean {
  let j = 0;
  for (const x of b) if (j < a.length && x === a[j]) j++;
  return j === a.length;
}

/** The hover readout, written straight to the DOM (it changes on every mouse move): one row per job. */
function renderReadout(u: uPlot, el: HTMLDivElement | null, meta: SeriesMeta[]): void {
  if (!el) return;
  const idx = u.cursor.idx;
  el.textContent = '';
  if (idx === null || idx === undefined) {
    el.textContent = 'Hover for values · drag to zoom · double-click or Reset zoom to see all';
    return;
  }
  const head = document.createElement('strong');
  head.textContent = `step ${u.data[0][idx]}`;
  el.append(head);
  const rows = new Map<
    string,
    { color: string; train?: number; raw?: number; val?: number; meanPattern?: number; floor?: number }
  >();
  for (let i = 1; i < u.series.length; i++) {
    const v = u.data[i][idx];
    const m = meta[i];
    if (!m || v === null || v === undefined) continue;
    const row = rows.get(m.job) ?? { color: m.color };
    row[m.kind] = v as number;
    rows.set(m.job, row);
  }
  for (const [job, r] of rows) {
    const span = document.createElement('span');
    span.className = 'readout-row';
    const sw = document.createElement('i');
    sw.style.background = r.color;
    const parts: string[] = [];
    if (r.train !== undefined) parts.push(`train ${formatLoss(r.train)}`);
    if (r.raw !== undefined) parts.push(`raw ${formatLoss(r.raw)}`);
    if (r.val !== undefined) parts.push(`val ${formatLoss(r.val)}`);
    if (r.meanPattern !== undefined) parts.push(`mean pattern ${formatLoss(r.meanPattern)}`);
    if (r.floor !== undefined) parts.push(`true object ${formatLoss(r.floor)}`);
    span.append(sw, `${job}: ${parts.join(' · ')}`);
    el.append(span);
  }
}
