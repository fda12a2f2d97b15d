/**
 * Small inline-SVG charts for the report: a metric against dose (log axis), one line per
 * view — the study's headline trend — and FRC curves with their threshold lines.
 */
import type { ComparisonMetricKey, ComparisonRow } from '../../../shared/evaluation';
import { formatDose, formatNumber } from '../render/format';

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
export const VIEW_COLORS: Record<string, string> = { baseline: '#1f77b4', dense: '#d62728', sparse: '#2ca02c' };

/** The chart's frame and title; a caption, if given, goes on a second line so a long title is never cut. */
function frame(width: number, height: number, title: string, caption?: string): string[] {
  const label = caption ? `${title} (${caption})` : title;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}">`,
    // About 7 px per character of 12 px bold sans; a longer title is squeezed to fit, never cut.
    `<text x="8" y="15" font-size="12" font-family="sans-serif" font-weight="bold"${title.length * 7 > width - 16 ? ` textLength="${width - 16}" lengthAdjust="spacingAndGlyphs"` : ''}>${esc(title)}</text>`,
  ];
  if (caption)
    parts.push(`<text x="8" y="28" font-size="10" font-family="sans-serif" fill="#555">${esc(caption)}</text>`);
  return parts;
}

export interface TrendOptions {
  /** Fixed y range (the axis always shows it, so noise is not stretched into a trend). */
  range?: { lo: number; hi: number };
  /** The constant guess's score per row, drawn dashed in the view's colour. */
  baselineKey?: keyof ComparisonRow;
  /** Spread over repeated seeds per row, drawn as ± error bars. */
  sdKey?: keyof ComparisonRow;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Metric vs dose, one line per view; missing jobs leave gaps (and are named in the legend). */
export function doseTrendSvg(
  rows: ComparisonRow[],
  key: ComparisonMetricKey,
  label: string,
  better: 'higher' | 'lower',
  opts: TrendOptions = {},
  width = 400,
  height = 230,
): string {
  const L = 56;
  const R = 128;
  const T = 36;
  const B = 34;
  const doses = [...new Set(rows.map((r) => r.dose))].sort((a, b) => a - b);
  const vals = rows.map((r) => r[key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const parts = frame(width, height, `${label} vs dose`, `${better} is better`);
  if (!vals.length || !doses.length) {
    parts.push(
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#777" font-family="sans-serif">no evaluated jobs yet</text></svg>`,
    );
    return parts.join('');
  }
  const base = opts.baselineKey ? rows.map((r) => num(r[opts.baselineKey as keyof ComparisonRow])) : [];
  const extent = [...vals, ...base.filter((v): v is number => v !== null)];
  let y0 = Math.min(...extent, opts.range?.lo ?? Number.POSITIVE_INFINITY);
  let y1 = Math.max(...extent, opts.range?.hi ?? Number.NEGATIVE_INFINITY);
  const pad = (y1 - y0) * 0.05 || Math.abs(y1) * 0.05 || 0.05;
  y0 -= pad;
  y1 += pad;
  const lx = doses.map((d) => Math.log10(d));
  const x0 = Math.min(...lx) - 0.15;
  const x1 = Math.max(...lx) + 0.15;
  const sx = (d: number) => L + ((Math.log10(d) - x0) / (x1 - x0)) * (width - L - R);
  const sy = (v: number) => T + (1 - (v - y0) / (y1 - y0)) * (height - T - B);
  parts.push(`<rect x="${L}" y="${T}" width="${width - L - R}" height="${height - T - B}" fill="none" stroke="#999"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = y0 + ((y1 - y0) * k) / 4;
    parts.push(`<line x1="${L}" x2="${width - R}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(
      `<text x="${L - 6}" y="${sy(v).toFixed(1)}" dy="4" text-anchor="end" font-size="10" font-family="sans-serif">${formatNumber(v)}</text>`,
    );
  }
  for (const d of doses) {
    parts.push(
      `<text x="${sx(d).toFixed(1)}" y="${height - B + 14}" text-anchor="middle" font-size="10" font-family="sans-serif">${formatDose(d)}</text>`,
    );
  }
  parts.push(
    `<text x="${(L + width - R) / 2}" y="${height - 4}" text-anchor="middle" font-size="10" fill="#555" font-family="sans-serif">dose (photons per exposure, log scale)</text>`,
  );
  const views = [...new Set(rows.map((r) => r.view))];
  views.forEach((view, k) => {
    const color = VIEW_COLORS[view] ?? '#444';
    const pts = rows
      .filter((r) => r.view === view && typeof r[key] === 'number' && Number.isFinite(r[key] as number))
      .sort((a, b) => a.dose - b.dose);
    const bpts = opts.baselineKey
      ? rows
          .filter((r) => r.view === view && num(r[opts.baselineKey as keyof ComparisonRow]) !== null)
          .sort((a, b) => a.dose - b.dose)
      : [];
    if (bpts.length) {
      const bv = (r: ComparisonRow) => num(r[opts.baselineKey as keyof ComparisonRow]) as number;
      const d =
        bpts.length > 1
          ? bpts.map((r, i) => `${i ? 'L' : 'M'}${sx(r.dose).toFixed(1)},${sy(bv(r)).toFixed(1)}`).join('')
          : `M${(sx(bpts[0].dose) - 12).toFixed(1)},${sy(bv(bpts[0])).toFixed(1)}L${(sx(bpts[0].dose) + 12).toFixed(1)},${sy(bv(bpts[0])).toFixed(1)}`;
      parts.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.2" stroke-dasharray="5 3" opacity="0.8"><title>${esc(`${view}: constant guess`)}</title></path>`,
      );
    }
    if (opts.sdKey) {
      for (const r of pts) {
        const sd = num(r[opts.sdKey]);
        if (sd === null || sd <= 0) continue;
        const v = r[key] as number;
        const x = sx(r.dose).toFixed(1);
        parts.push(
          `<path d="M${x},${sy(v - sd).toFixed(1)}L${x},${sy(v + sd).toFixed(1)}M${(sx(r.dose) - 4).toFixed(1)},${sy(v - sd).toFixed(1)}h8M${(sx(r.dose) - 4).toFixed(1)},${sy(v + sd).toFixed(1)}h8" stroke="${color}" stroke-width="1.2"/>`,
        );
      }
    }
    if (pts.length > 1) {
      const d = pts
        .map((r, i) => `${i ? 'L' : 'M'}${sx(r.dose).toFixed(1)},${sy(r[key] as number).toFixed(1)}`)
        .join('');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const r of pts) {
      parts.push(
        `<circle cx="${sx(r.dose).toFixed(1)}" cy="${sy(r[key] as number).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${r.job_id}: ${formatNumber(r[key] as number, 4)}`)}</title></circle>`,
      );
    }
    const missing = rows.filter((r) => r.view === view).length - pts.length;
    const ly = T + 12 + k * 16;
    parts.push(
      `<line x1="${width - R + 8}" x2="${width - R + 22}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(
      `<text x="${width - R + 26}" y="${ly + 4}" font-size="10" font-family="sans-serif">${esc(view)}${missing ? ` (${missing} missing)` : ''}</text>`,
    );
  });
  if (opts.baselineKey) {
    const ly = T + 12 + views.length * 16;
    parts.push(
      `<line x1="${width - R + 8}" x2="${width - R + 22}" y1="${ly}" y2="${ly}" stroke="#555" stroke-width="1.2" stroke-dasharray="5 3"/>`,
      `<text x="${width - R + 26}" y="${ly + 4}" font-size="10" font-family="sans-serif">constant guess</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** FRC curves of amplitude and phase against the fraction of Nyquist, with 0.5 and 1/7 lines. */
export function frcSvg(
  curves: { label: string; curve: (number | null)[]; color: string }[],
  thresholds: number[],
  width = 360,
  height = 220,
): string {
  const L = 44;
  const R = 10;
  const T = 26;
  const B = 34;
  const parts = frame(width, height, 'Fourier ring correlation');
  const sx = (f: number) => L + f * (width - L - R);
  const y0 = -0.2;
  const y1 = 1.05;
  const sy = (v: number) => T + (1 - (Math.max(y0, Math.min(y1, v)) - y0) / (y1 - y0)) * (height - T - B);
  parts.push(`<rect x="${L}" y="${T}" width="${width - L - R}" height="${height - T - B}" fill="none" stroke="#999"/>`);
  for (const v of [0, 0.5, 1]) {
    parts.push(
      `<text x="${L - 6}" y="${sy(v).toFixed(1)}" dy="4" text-anchor="end" font-size="10" font-family="sans-serif">${v}</text>`,
    );
  }
  for (const t of thresholds) {
    parts.push(
      `<line x1="${L}" x2="${width - R}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#888" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text x="${width - R - 2}" y="${(sy(t) - 3).toFixed(1)}" text-anchor="end" font-size="9" fill="#555" font-family="sans-serif">${t === 0.5 ? '0.5' : '1/7'}</text>`,
    );
  }
  for (const f of [0, 0.5, 1]) {
    parts.push(
      `<text x="${sx(f).toFixed(1)}" y="${height - B + 14}" text-anchor="middle" font-size="10" font-family="sans-serif">${f}</text>`,
    );
  }
  parts.push(
    `<text x="${(L + width - R) / 2}" y="${height - 4}" text-anchor="middle" font-size="10" fill="#555" font-family="sans-serif">spatial frequency / Nyquist</text>`,
  );
  curves.forEach((c, k) => {
    const n = c.curve.length - 1;
    const d = c.curve
      .map((v, i) => (v === null || i === 0 ? null : `${sx(i / n).toFixed(1)},${sy(v).toFixed(1)}`))
      .filter((s): s is string => s !== null)
      .map((s, i) => `${i ? 'L' : 'M'}${s}`)
      .join('');
    parts.push(`<path d="${d}" fill="none" stroke="${c.color}" stroke-width="1.5"/>`);
    parts.push(
      `<text x="${L + 8}" y="${T + height - T - B - 8 - k * 14}" font-size="10" fill="${c.color}" font-family="sans-serif">${esc(c.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
