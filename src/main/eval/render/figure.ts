/**
 * Figures of 2-D fields: one or more panels side by side, each with a title, the image at an
 * integer zoom (nearest neighbour: every data pixel stays visible) and a colour bar whose
 * ends are exactly the values the colours were mapped from. Values beyond the bar are
 * clipped, and the bar's end label says so (≤ / ≥). Masked pixels (not covered by any
 * patch) are grey, never a colour that means a value.
 */
import type { RealImage } from '../image';
import {
  BLACK,
  type Canvas,
  createCanvas,
  drawText,
  encodePng,
  fillRect,
  GREY,
  strokeRect,
  textHeight,
} from './canvas';
import { type ColormapName, colorAt } from './colormap';
import { textWidth } from './font';
import { formatNumber } from './format';

export interface FieldPanel {
  image: RealImage;
  title: string;
  colormap: ColormapName;
  vmin: number;
  vmax: number;
  /** Unit or quantity shown under the colour bar, e.g. "rad". */
  unit?: string;
  /** Pixels to show grey (true = masked). */
  mask?: Uint8Array;
  /** Wrap values into [vmin, vmax) instead of clipping (cyclic quantities such as phase). */
  cyclic?: boolean;
}

const PAD = 16;
const BAR_W = 16;
const SCALE = 2;

/** Integer zoom: about 300 px on the long side, at least ~140 px tall where the width allows. */
function zoomFor(img: RealImage): number {
  let zoom = Math.max(1, Math.min(4, Math.floor(300 / Math.max(img.height, img.width))));
  if (img.height * zoom < 140)
    zoom = Math.max(zoom, Math.min(4, Math.ceil(140 / img.height), Math.floor(600 / img.width)));
  return Math.max(1, zoom);
}

/** As many ticks as fit the bar without the labels touching (2 … 5). */
function tickCount(barHeight: number): number {
  return Math.max(2, Math.min(5, Math.floor(barHeight / 24) + 1));
}

function tickLabels(p: FieldPanel, ticks: number): string[] {
  let below = false;
  let above = false;
  if (!p.cyclic) {
    for (let i = 0; i < p.image.data.length; i++) {
      if (p.mask?.[i]) continue;
      if (p.image.data[i] < p.vmin) below = true;
      if (p.image.data[i] > p.vmax) above = true;
    }
  }
  return Array.from({ length: ticks }, (_, k) => {
    const v = p.vmax - ((p.vmax - p.vmin) * k) / (ticks - 1);
    const s = formatNumber(v);
    if (k === 0 && above) return `≥${s}`;
    if (k === ticks - 1 && below) return `≤${s}`;
    return s;
  });
}

function panelSize(p: FieldPanel): { w: number; h: number; zoom: number; labels: string[] } {
  const zoom = zoomFor(p.image);
  const labels = tickLabels(p, tickCount(p.image.height * zoom));
  const labelW = Math.max(...labels.map((l) => textWidth(l, SCALE)), textWidth(p.unit ?? '', SCALE) - BAR_W - 6);
  const imgW = p.image.width * zoom;
  const w = Math.max(imgW + 10 + BAR_W + 6 + labelW, textWidth(p.title, SCALE));
  const h = textHeight(SCALE) + 8 + p.image.height * zoom + (p.unit ? textHeight(SCALE) + 6 : 0);
  return { w, h, zoom, labels };
}

function drawPanel(c: Canvas, x0: number, y0: number, p: FieldPanel, zoom: number, labels: string[]): void {
  drawText(c, x0, y0, p.title, BLACK, SCALE);
  const iy = y0 + textHeight(SCALE) + 8;
  const { height: h, width: w } = p.image;
  const span = p.vmax - p.vmin || 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let t = (p.image.data[i] - p.vmin) / span;
      if (p.cyclic) t -= Math.floor(t);
      fillRect(c, x0 + x * zoom, iy + y * zoom, zoom, zoom, p.mask?.[i] ? GREY : colorAt(p.colormap, t));
    }
  }
  strokeRect(c, x0 - 1, iy - 1, w * zoom + 2, h * zoom + 2, BLACK);
  const bx = x0 + w * zoom + 10;
  const bh = h * zoom;
  for (let y = 0; y < bh; y++) fillRect(c, bx, iy + y, BAR_W, 1, colorAt(p.colormap, 1 - y / Math.max(1, bh - 1)));
  strokeRect(c, bx - 1, iy - 1, BAR_W + 2, bh + 2, BLACK);
  labels.forEach((label, k) => {
    const ty = iy + Math.round(((bh - 1) * k) / (labels.length - 1));
    fillRect(c, bx + BAR_W, ty, 4, 1, BLACK);
    const top = Math.min(Math.max(ty - textHeight(SCALE) / 2, iy - 2), iy + bh - textHeight(SCALE) + 2);
    drawText(c, bx + BAR_W + 6, Math.round(top), label, BLACK, SCALE);
  });
  if (p.unit) drawText(c, bx, iy + bh + 6, p.unit, BLACK, SCALE);
}

/** Render panels left to right under an optional figure title; returns PNG bytes. */
export function renderFigure(panels: FieldPanel[], title?: string): Buffer {
  const sizes = panels.map(panelSize);
  const top = title ? PAD + textHeight(SCALE) + 12 : PAD;
  const width = PAD + sizes.reduce((s, z) => s + z.w + PAD * 2, 0);
  const height = top + Math.max(...sizes.map((z) => z.h)) + PAD;
  const c = createCanvas(Math.max(width, title ? textWidth(title, SCALE) + 2 * PAD : 0), height);
  if (title) drawText(c, PAD, PAD, title, BLACK, SCALE);
  let x = PAD;
  panels.forEach((p, k) => {
    drawPanel(c, x, top, p, sizes[k].zoom, sizes[k].labels);
    x += sizes[k].w + PAD * 2;
  });
  return encodePng(c);
}
