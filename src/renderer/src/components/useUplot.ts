/**
 * One uPlot chart kept in step with a data source outside React. `build` describes what to
 * draw (data, series, a `frame` key for what needs a new chart — scale kind, theme, x axis —
 * and a `signature` for which lines exist); the hook rebuilds the chart only when the frame
 * changes, swaps series in place when only the lines change (a job joining mid-stream), and
 * otherwise just hands uPlot the new data. It re-runs `build` whenever `subscribe` fires.
 */
import { type RefObject, useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface ChartFrame {
  data: uPlot.AlignedData;
  series: uPlot.Series[];
  /** A key per series (same order): lines whose key stays are kept when others come or go. */
  keys: string[];
  frame: string;
  signature: string;
  /** Chart options for a new chart of this frame (size and series are filled in). */
  options(): Omit<uPlot.Options, 'width' | 'height' | 'series'>;
}

export interface UplotHandle {
  plot: RefObject<uPlot | null>;
  /** The user dragged to zoom: data updates keep the view until a reset. */
  zoomed: RefObject<boolean>;
  resetZoom(): void;
}

export function useUplot(
  host: RefObject<HTMLDivElement | null>,
  build: () => ChartFrame,
  subscribe: (onChange: () => void) => () => void,
  deps: readonly unknown[],
  after?: (frame: ChartFrame, plot: uPlot | null) => void,
): UplotHandle {
  const plot = useRef<uPlot | null>(null);
  const zoomed = useRef(false);
  const buildRef = useRef(build);
  buildRef.current = build;
  const afterRef = useRef(after);
  afterRef.current = after;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    let frame = '';
    let signature = '';
    let keys: string[] = [];

    const make = (b: ChartFrame): uPlot => {
      const base = b.options();
      const opts: uPlot.Options = {
        ...base,
        width: el.clientWidth || 600,
        height: Math.max(160, el.clientHeight || 300),
        series: b.series,
        hooks: {
          ...base.hooks,
          // uPlot also fires setSelect on its own commits (resize); only a real drag zooms.
          setSelect: [
            ...(base.hooks?.setSelect ?? []),
            (u) => {
              if (u.select.width > 0) zoomed.current = true;
            },
          ],
        },
      };
      return new uPlot(opts, b.data, el);
    };

    const refresh = () => {
      const t0 = performance.now();
      const b = buildRef.current();
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
        u.batch(() => {
          if (isSubsequence(keys, b.keys)) {
            // the usual case: lines were only added — insert them where they belong
            for (let i = 1, j = 1; i < b.keys.length; i++) {
              if (b.keys[i] === keys[j]) j++;
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
      keys = b.keys;
      afterRef.current?.(b, plot.current);
      // User timing: the UI benchmark reads how long each chart update took on the main thread.
      performance.measure('loss-chart-update', { start: t0 });
    };

    refresh();
    const unsubscribe = subscribe(refresh);
    const ro = new ResizeObserver(() => {
      const u = plot.current;
      if (u) u.setSize({ width: el.clientWidth, height: Math.max(160, el.clientHeight) });
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
    // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names what invalidates the chart
  }, deps);

  return {
    plot,
    zoomed,
    resetZoom() {
      const u = plot.current;
      if (!u) return;
      zoomed.current = false;
      const x = u.data[0];
      if (x.length) u.setScale('x', { min: x[0] as number, max: x[x.length - 1] as number });
    },
  };
}

/** Every element of `a` appears in `b`, in the same order. */
export function isSubsequence(a: readonly string[], b: readonly string[]): boolean {
  let j = 0;
  for (const x of b) if (j < a.length && x === a[j]) j++;
  return j === a.length;
}
