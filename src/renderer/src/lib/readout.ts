/**
 * The chart's hover readout in words: the x value as its axis reads it, and per job the raw
 * and the smoothed value each under its own name ("train raw −139.6 · smoothed −139.1 ·
 * val −143.4"), with a raw point left out of the smoothing said to be so.
 */
import { scalarLabel, type XAxisKind } from './build-series';
import { formatLoss } from './format';

/** The x value as the axis reads it. */
export function formatX(v: number, axis: XAxisKind): string {
  if (axis === 'step') return `step ${v}`;
  if (axis === 'epoch') return `epoch ${v.toFixed(2)}`;
  if (axis === 'relative') return v < 120 ? `${v.toFixed(1)} s` : `${Math.floor(v / 60)} min ${(v % 60).toFixed(0)} s`;
  return new Date(v * 1000).toLocaleTimeString();
}

export interface ReadoutRow {
  color: string;
  raw?: number;
  smoothed?: number;
  outlier?: boolean;
  val?: number;
  meanPattern?: number;
  floor?: number;
}

/** One line per job, e.g. "train raw −139.6 · smoothed −139.1 · val −143.4"; pure, for the chart and its tests. */
export function readoutText(scalar: string, r: ReadoutRow): string {
  const name = scalar === 'loss' ? 'train' : scalarLabel(scalar);
  const parts: string[] = [];
  if (r.raw !== undefined) {
    let t = `${name} raw ${formatLoss(r.raw)}`;
    if (r.outlier) t += ' (outlier: left out of the smoothing)';
    parts.push(t);
  }
  if (r.smoothed !== undefined && Number.isFinite(r.smoothed))
    parts.push(`${r.raw === undefined ? `${name} ` : ''}smoothed ${formatLoss(r.smoothed)}`);
  if (r.val !== undefined) parts.push(`val ${formatLoss(r.val)}`);
  if (r.meanPattern !== undefined) parts.push(`mean pattern ${formatLoss(r.meanPattern)}`);
  if (r.floor !== undefined) parts.push(`true object ${formatLoss(r.floor)}`);
  return parts.join(' · ');
}
