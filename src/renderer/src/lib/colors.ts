/**
 * Stable colour per job, derived from what the job is rather than from list order, so a
 * job keeps its colour across reloads, filters and overlays. Nine categorical colours per
 * theme (one per dose × view of the study), chosen so that every pair is at least
 * MIN_DELTA_E apart in CIEDE2000 and each stands out from the chart's background; the
 * unit test checks both. Dose picks a row of three, view the colour within it.
 */
import { VIEW_NAMES } from '../../../shared/study';

const VIEWS = VIEW_NAMES;

export const PALETTE: Record<'light' | 'dark', readonly string[]> = {
  // D3's category10 without its grey, olive darkened for a white background
  light: ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f00', '#17becf'],
  // the same hues, lighter, for the dark panel
  dark: ['#5fa8ff', '#ff9933', '#5fd35f', '#ff5c5c', '#b68cff', '#b88468', '#ff8ad8', '#d4d44a', '#4fe0f0'],
};

/** The smallest CIEDE2000 difference the palette keeps between any two jobs (checked in a test). */
export const MIN_DELTA_E = 15;

/** The chart's background per theme (the panel colour in styles.css). */
export const CHART_BACKGROUND = { light: '#ffffff', dark: '#1b1e24' } as const;

const DEFAULT_DOSES = [1e3, 1e4, 1e5];

/**
 * The job's colour. `doses` are the study's doses (any order); a dose not among them is
 * placed by its decade from 1e3.
 */
export function jobColor(
  view: string,
  dose: number,
  theme: 'light' | 'dark' = 'light',
  doses: readonly number[] = DEFAULT_DOSES,
): string {
  const sorted = [...doses].sort((a, b) => a - b);
  let row = sorted.indexOf(dose);
  if (row < 0) row = Math.max(0, Math.round(Math.log10(Math.max(dose, 1)) - 3));
  const col = Math.max(0, VIEWS.indexOf(view as (typeof VIEWS)[number]));
  const colours = PALETTE[theme];
  return colours[(row * 3 + col) % colours.length];
}

/** The same colour with an alpha (for the raw line under a smoothed one); takes #rrggbb or hsl(). */
export function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (m) {
    const v = Number.parseInt(m[1], 16);
    return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${alpha})`;
  }
  const rgba = /^rgba\((\d+), (\d+), (\d+), ([\d.]+)\)$/.exec(color);
  if (rgba) return `rgba(${rgba[1]}, ${rgba[2]}, ${rgba[3]}, ${Number(rgba[4]) * alpha})`;
  return color.replace(/\)$/, ` / ${alpha})`);
}
