/** Colour maps as 256-entry RGB lookup tables (data in colormap-data.ts). */
import { COLORMAP_HEX } from './colormap-data';

export type ColormapName = keyof typeof COLORMAP_HEX;
export type Rgb = [number, number, number];

function decode(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const TABLES: Record<ColormapName, Uint8Array> = {
  viridis: decode(COLORMAP_HEX.viridis),
  twilight: decode(COLORMAP_HEX.twilight),
  coolwarm: decode(COLORMAP_HEX.coolwarm),
};

/** Colour of `t` in [0, 1] (clamped; NaN maps to 0). */
export function colorAt(name: ColormapName, t: number): Rgb {
  const lut = TABLES[name];
  const k = Number.isFinite(t) ? Math.min(255, Math.max(0, Math.round(t * 255))) : 0;
  return [lut[3 * k], lut[3 * k + 1], lut[3 * k + 2]];
}

/** Black or white, whichever reads better on `rgb` (relative luminance). */
export function textColorOn(rgb: Rgb): Rgb {
  const lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  return lum > 140 ? [0, 0, 0] : [255, 255, 255];
}
