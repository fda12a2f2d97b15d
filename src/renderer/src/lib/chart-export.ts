/**
 * A chart's lines as files: CSV in long form (one row per point: job, line, x, value — every
 * line keeps its own x, nothing is interpolated or padded) and JSON with the same content
 * plus what the axes mean. The numbers are the ones drawn, at full precision.
 */
import type { SeriesKind } from './build-series';

export interface ExportLine {
  job: string;
  kind: SeriesKind;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface ExportMeta {
  scalar: string;
  xAxis: string;
  smoothing: number;
  ignoreOutliers: boolean;
}

const LINE_NAMES: Record<SeriesKind, string> = {
  raw: 'raw',
  smoothed: 'smoothed',
  val: 'validation',
  meanPattern: 'mean pattern',
  floor: 'true object',
};

/** RFC 4180 field: quoted when it holds a comma, quote or line break. */
function field(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const num = (v: number) => (Number.isFinite(v) ? String(v) : '');

export function chartCsv(lines: readonly ExportLine[], meta: ExportMeta): string {
  const out = [['job', 'line', meta.xAxis, meta.scalar].map(field).join(',')];
  for (const l of lines) {
    const job = field(l.job);
    const kind = field(LINE_NAMES[l.kind]);
    for (let i = 0; i < l.x.length; i++) out.push(`${job},${kind},${num(l.x[i])},${num(l.y[i])}`);
  }
  return `${out.join('\r\n')}\r\n`;
}

export function chartJson(lines: readonly ExportLine[], meta: ExportMeta): string {
  return JSON.stringify(
    {
      ...meta,
      lines: lines.map((l) => ({
        job: l.job,
        line: LINE_NAMES[l.kind],
        x: Array.from(l.x, (v) => (Number.isFinite(v) ? v : null)),
        y: Array.from(l.y, (v) => (Number.isFinite(v) ? v : null)),
      })),
    },
    null,
    1,
  );
}

/** A file name from the chart's content: `loss-by-step-2026-12-03T12-00-00.csv`. */
export function exportName(meta: Pick<ExportMeta, 'scalar' | 'xAxis'>, ext: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  const clean = (s: string) => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
  return `${clean(meta.scalar)}-by-${clean(meta.xAxis)}-${stamp}.${ext}`;
}
