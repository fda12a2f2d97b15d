/**
 * A minimal RGB raster for figures: rectangles, pixel-exact scaled images, bitmap text, and
 * PNG encoding through pngjs. Enough for honest scientific figures without a browser.
 */
import { PNG } from 'pngjs';
import { GLYPH_ADVANCE, GLYPH_HEIGHT, glyph, textWidth } from './font';
import type { Rgb } from './colormap';

export interface Canvas {
  width: number;
  height: number;
  /** RGBA, row-major. */
  data: Uint8Array;
}

export const WHITE: Rgb = [255, 255, 255];
export const BLACK: Rgb = [0, 0, 0];
export const GREY: Rgb = [128, 128, 128];
export const LIGHT_GREY: Rgb = [225, 225, 225];

export function createCanvas(width: number, height: number, background: Rgb = WHITE): Canvas {
  const c: Canvas = { width, height, data: new Uint8Array(width * height * 4) };
  fillRect(c, 0, 0, width, height, background);
  return c;
}

export function setPixel(c: Canvas, x: number, y: number, rgb: Rgb): void {
  if (x < 0 || y < 0 || x >= c.width || y >= c.height) return;
  const i = 4 * (y * c.width + x);
  c.data[i] = rgb[0];
  c.data[i + 1] = rgb[1];
  c.data[i + 2] = rgb[2];
  c.data[i + 3] = 255;
}

export function fillRect(c: Canvas, x: number, y: number, w: number, h: number, rgb: Rgb): void {
  for (let yy = Math.max(0, y); yy < Math.min(c.height, y + h); yy++) {
    for (let xx = Math.max(0, x); xx < Math.min(c.width, x + w); xx++) setPixel(c, xx, yy, rgb);
  }
}

export function strokeRect(c: Canvas, x: number, y: number, w: number, h: number, rgb: Rgb): void {
  fillRect(c, x, y, w, 1, rgb);
  fillRect(c, x, y + h - 1, w, 1, rgb);
  fillRect(c, x, y, 1, h, rgb);
  fillRect(c, x + w - 1, y, 1, h, rgb);
}

export type Align = 'left' | 'center' | 'right';

/** Draw text with its top at y; `x` is the left edge, centre or right edge per `align`. */
export function drawText(
  c: Canvas,
  x: number,
  y: number,
  text: string,
  rgb: Rgb,
  scale = 2,
  align: Align = 'left',
): void {
  const w = textWidth(text, scale);
  let cx = align === 'left' ? x : align === 'center' ? Math.round(x - w / 2) : x - w;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      for (let col = 0; col < rows[r].length; col++) {
        if (rows[r][col]) fillRect(c, cx + col * scale, y + r * scale, scale, scale, rgb);
      }
    }
    cx += GLYPH_ADVANCE * scale;
  }
}

export function textHeight(scale = 2): number {
  return GLYPH_HEIGHT * scale;
}

export function encodePng(c: Canvas): Buffer {
  const png = new PNG({ width: c.width, height: c.height });
  png.data = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  return PNG.sync.write(png);
}
