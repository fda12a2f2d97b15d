/**
 * Loss curves as inline SVG for the offline report, read from a job's events.jsonl:
 * per-step training loss (thin), per-epoch training and validation loss (markers), on a
 * log or linear y axis chosen from the data. No script, no external asset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { TrainEvent } from '../../../shared/events';
import { formatNumber } from '../render/format';

export interface LossSeries {
  steps: { step: number; loss: number }[];
  epochs: { step: number | null; epoch: number; train: number; val: number | null }[];
  status: string | null;
  /** Training loss of "learned nothing" (mean pattern) and "perfect" (true object), from the last epoch event. */
  reference: { meanPattern: number | null; floor: number | null };
}

/** Parse events.jsonl leniently: a torn last line or an unknown event is skipped, not fatal. */
export function readLossSeries(eventsPath: string): LossSeries {
  const out: LossSeries = { steps: [], epochs: [], status: null, reference: { meanPattern: null, floor: null } };
  if (!existsSync(eventsPath)) return out;
  for (const line of readFileSync(eventsPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const r = TrainEvent.safeParse(json);
    if (!r.success) continue;
    const e = r.data;
    if (e.type === 'step' && Number.isFinite(e.loss)) out.steps.push({ step: e.step, loss: e.loss });
    else if (e.type === 'epoch') {
      out.epochs.push({ step: e.step ?? null, epoch: e.epoch, train: e.train_loss, val: e.val_loss });
      out.reference = { meanPattern: e.mean_pattern_nll ?? null, floor: e.true_object_nll ?? null };
    } else if (e.type === 'status') out.status = e.status;
  }
  return out;
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function lossSvg(series: LossSeries, title: string, width = 380, height = 220): string {
  const pts = [
    ...series.steps.map((s) => ({ x: s.step, y: s.loss })),
    ...series.epochs.flatMap((e) => [
      { x: e.step ?? e.epoch, y: e.train },
      ...(e.val !== null ? [{ x: e.step ?? e.epoch, y: e.val }] : []),
    ]),
  ].filter((p) => Number.isFinite(p.y));
  const refs = [
    { v: series.reference.meanPattern, label: 'mean pattern', color: '#888' },
    { v: series.reference.floor, label: 'true object', color: '#2a8f3a' },
  ].filter((r): r is { v: number; label: string; color: string } => r.v !== null && Number.isFinite(r.v));
  const L = 58;
  const R = 10;
  const T = 24;
  const B = 34;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}"><text x="${L}" y="15" font-size="12" font-family="sans-serif">${esc(title)}</text>`;
  if (!pts.length) {
    return `${head}<text x="${width / 2}" y="${height / 2}" text-anchor="middle" font-size="12" fill="#777" font-family="sans-serif">no loss events recorded</text></svg>`;
  }
  // Epoch events without a step number are drawn against the epoch axis instead.
  const xKey = series.steps.length ? 'step' : 'epoch';
  const xs = pts.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs, x0 + 1);
  let y0 = Math.min(...ys, ...refs.map((r) => r.v));
  let y1 = Math.max(...ys, ...refs.map((r) => r.v));
  const log = y0 > 0 && y1 / y0 > 20;
  if (y1 === y0) {
    y0 -= Math.abs(y0) * 0.1 || 1;
    y1 += Math.abs(y1) * 0.1 || 1;
  }
  const fy = (v: number) => (log ? Math.log10(v) : v);
  const sx = (v: number) => L + ((v - x0) / (x1 - x0)) * (width - L - R);
  const sy = (v: number) => T + (1 - (fy(v) - fy(y0)) / (fy(y1) - fy(y0))) * (height - T - B);
  const parts: string[] = [head];
  parts.push(`<rect x="${L}" y="${T}" width="${width - L - R}" height="${height - T - B}" fill="none" stroke="#999"/>`);
  const ticks = log
    ? Array.from(
        { length: Math.floor(Math.log10(y1)) - Math.ceil(Math.log10(y0)) + 1 },
        (_, k) => 10 ** (Math.ceil(Math.log10(y0)) + k),
      )
    : Array.from({ length: 5 }, (_, k) => y0 + ((y1 - y0) * k) / 4);
  for (const t of ticks.length ? ticks : [y0, y1]) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${L - 4}" x2="${width - R}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${L - 6}" y="${y}" dy="4" text-anchor="end" font-size="10" font-family="sans-serif">${formatNumber(t)}</text>`,
    );
  }
  for (const t of [x0, (x0 + x1) / 2, x1]) {
    parts.push(
      `<text x="${sx(t).toFixed(1)}" y="${height - B + 14}" text-anchor="middle" font-size="10" font-family="sans-serif">${formatNumber(Math.round(t))}</text>`,
    );
  }
  parts.push(
    `<text x="${(L + width - R) / 2}" y="${height - 4}" text-anchor="middle" font-size="10" fill="#555" font-family="sans-serif">${xKey}${log ? ' · log-scale loss' : ''}</text>`,
  );
  if (series.steps.length) {
    const d = series.steps.map((s, i) => `${i ? 'L' : 'M'}${sx(s.step).toFixed(1)},${sy(s.loss).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="#9bb7d4" stroke-width="1"/>`);
  }
  const ex = (e: LossSeries['epochs'][number]) => sx(e.step ?? e.epoch).toFixed(1);
  const line = (key: 'train' | 'val', color: string) => {
    const pts2 = series.epochs.filter((e) => e[key] !== null && Number.isFinite(e[key] as number));
    if (!pts2.length) return;
    parts.push(
      `<path d="${pts2.map((e, i) => `${i ? 'L' : 'M'}${ex(e)},${sy(e[key] as number).toFixed(1)}`).join('')}" fill="none" stroke="${color}" stroke-width="1.5"/>`,
    );
    for (const e of pts2)
      parts.push(`<circle cx="${ex(e)}" cy="${sy(e[key] as number).toFixed(1)}" r="2.5" fill="${color}"/>`);
  };
  line('train', '#1f4e9c');
  line('val', '#d0661c');
  // "learned nothing" and "perfect" in the loss's units (training data), dashed
  for (const r of refs) {
    const y = sy(r.v).toFixed(1);
    parts.push(
      `<line x1="${L}" x2="${width - R}" y1="${y}" y2="${y}" stroke="${r.color}" stroke-dasharray="5 3"><title>${esc(`${r.label} NLL ${formatNumber(r.v, 5)}`)}</title></line>`,
      `<text x="${L + 4}" y="${(Number(y) - 3).toFixed(1)}" font-size="9" fill="${r.color}" font-family="sans-serif">${r.label === 'mean pattern' ? 'mean pattern (learned nothing)' : 'true object (floor)'}</text>`,
    );
  }
  parts.push(
    `<g font-size="10" font-family="sans-serif"><line x1="${width - 150}" x2="${width - 136}" y1="${T + 10}" y2="${T + 10}" stroke="#9bb7d4"/><text x="${width - 132}" y="${T + 13}">step</text><circle cx="${width - 100}" cy="${T + 10}" r="2.5" fill="#1f4e9c"/><text x="${width - 94}" y="${T + 13}">train</text><circle cx="${width - 60}" cy="${T + 10}" r="2.5" fill="#d0661c"/><text x="${width - 54}" y="${T + 13}">val</text></g>`,
  );
  parts.push('</svg>');
  return parts.join('');
}
