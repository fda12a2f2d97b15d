/**
 * Dose × view heat maps of one metric: each cell coloured by its value on a colour bar, with
 * the number printed in the cell. The bar spans a fixed range when one is given (SSIM 0–1,
 * skill 0–1, an error from 0 to the constant guess's), so that 0.4065 vs 0.4200 is not drawn
 * as pale vs dark; without one it spans the lowest to the highest value shown.
 * For lower-is-better metrics the scale is reversed, so the bright end always means better
 * and the bar's labels run the other way.
 * A job without a score is a light-grey cell that says why ("missing"), never a colour.
 */
import { BLACK, createCanvas, drawText, encodePng, fillRect, LIGHT_GREY, strokeRect, textHeight } from './canvas';
import { type ColormapName, colorAt, textColorOn } from './colormap';
import { textWidth } from './font';
import { formatNumber } from './format';

export interface HeatmapSpec {
  title: string;
  /** Caption under the title, e.g. "higher is better". */
  subtitle?: string;
  rowLabels: string[];
  colLabels: string[];
  rowAxis: string;
  colAxis: string;
  /** values[row][col]; null = no score for that cell. */
  values: (number | null)[][];
  /** Text for each null cell (default `missingLabel`). */
  nullLabels?: (string | null)[][];
  /** Text for a null cell. */
  missingLabel?: string;
  colormap?: ColormapName;
  /** Bright = low values (for lower-is-better metrics). */
  reverse?: boolean;
  /** Cell text for a value (default: 4 significant digits). */
  formatCell?: (v: number) => string;
  /** Fixed colour range; values outside it take the end colours (their numbers still show). */
  range?: { lo: number; hi: number };
}

const S = 2;
const CELL_W = 132;
const CELL_H = 64;
const PAD = 16;
const BAR_W = 16;

export function renderHeatmap(spec: HeatmapSpec): Buffer {
  const cmap = spec.colormap ?? 'viridis';
  const finite = spec.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = spec.range?.lo ?? (finite.length ? Math.min(...finite) : 0);
  const hi = spec.range?.hi ?? (finite.length ? Math.max(...finite) : 1);
  const span = hi - lo;
  const t0 = (v: number) => (span > 0 ? Math.min(1, Math.max(0, (v - lo) / span)) : 0.5);
  const t = (v: number) => (spec.reverse ? 1 - t0(v) : t0(v));

  const rowLabelW = Math.max(textWidth(spec.rowAxis, S), ...spec.rowLabels.map((l) => textWidth(l, S))) + 12;
  const titleH = textHeight(S) + 8 + (spec.subtitle ? textHeight(S) + 8 : 0);
  const colLines = spec.colLabels.map((l) => l.split('\n'));
  const nLines = Math.max(1, ...colLines.map((l) => l.length));
  const colHeadH = textHeight(S) * (1 + nLines) + 10 + 4 * nLines;
  const gridX = PAD + rowLabelW;
  const gridY = PAD + titleH + colHeadH;
  const nR = spec.rowLabels.length;
  const nC = spec.colLabels.length;
  const barX = gridX + nC * CELL_W + 20;
  const barValues = spec.reverse ? [lo, (hi + lo) / 2, hi] : [hi, (hi + lo) / 2, lo];
  const barLabels = barValues.map((v) => formatNumber(v));
  const width = Math.max(
    barX + BAR_W + 8 + Math.max(...barLabels.map((l) => textWidth(l, S))) + PAD,
    PAD + textWidth(spec.title, S) + PAD,
    PAD + textWidth(spec.subtitle ?? '', S) + PAD,
  );
  const height = gridY + nR * CELL_H + PAD;
  const c = createCanvas(width, height);

  drawText(c, PAD, PAD, spec.title, BLACK, S);
  if (spec.subtitle) drawText(c, PAD, PAD + textHeight(S) + 8, spec.subtitle, [90, 90, 90], S);
  drawText(c, gridX + (nC * CELL_W) / 2, PAD + titleH, spec.colAxis, [90, 90, 90], S, 'center');
  colLines.forEach((lines, j) => {
    lines.forEach((l, k) => {
      const y = gridY - (lines.length - k) * (textHeight(S) + 4) - 2;
      drawText(c, gridX + j * CELL_W + CELL_W / 2, y, l, k === 0 ? BLACK : [90, 90, 90], S, 'center');
    });
  });
  drawText(c, PAD, gridY - textHeight(S) - 6, spec.rowAxis, [90, 90, 90], S);
  spec.rowLabels.forEach((l, i) => {
    drawText(c, gridX - 12, gridY + i * CELL_H + (CELL_H - textHeight(S)) / 2, l, BLACK, S, 'right');
  });

  for (let i = 0; i < nR; i++) {
    for (let j = 0; j < nC; j++) {
      const v = spec.values[i]?.[j] ?? null;
      const x = gridX + j * CELL_W;
      const y = gridY + i * CELL_H;
      const has = v !== null && Number.isFinite(v);
      const bg = has ? colorAt(cmap, t(v)) : LIGHT_GREY;
      fillRect(c, x, y, CELL_W, CELL_H, bg);
      const nullLabel = spec.nullLabels?.[i]?.[j] ?? spec.missingLabel ?? 'missing';
      const label = has ? (spec.formatCell ?? ((x: number) => formatNumber(x, 4)))(v) : nullLabel;
      drawText(
        c,
        x + CELL_W / 2,
        y + (CELL_H - textHeight(S)) / 2,
        label,
        has ? textColorOn(bg) : [110, 110, 110],
        S,
        'center',
      );
      strokeRect(c, x, y, CELL_W + 1, CELL_H + 1, [255, 255, 255]);
    }
  }
  strokeRect(c, gridX - 1, gridY - 1, nC * CELL_W + 3, nR * CELL_H + 3, BLACK);

  const barH = nR * CELL_H;
  for (let y = 0; y < barH; y++) fillRect(c, barX, gridY + y, BAR_W, 1, colorAt(cmap, 1 - y / Math.max(1, barH - 1)));
  strokeRect(c, barX - 1, gridY - 1, BAR_W + 2, barH + 2, BLACK);
  barLabels.forEach((l, k) => {
    const ty = gridY + Math.round(((barH - 1) * k) / 2);
    fillRect(c, barX + BAR_W, ty, 4, 1, BLACK);
    const top = Math.min(Math.max(ty - textHeight(S) / 2, gridY - 2), gridY + barH - textHeight(S) + 2);
    drawText(c, barX + BAR_W + 8, Math.round(top), l, BLACK, S);
  });
  return encodePng(c);
}
