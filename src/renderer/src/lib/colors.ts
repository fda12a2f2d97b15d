/**
 * Stable colour per job, derived from what the job is rather than from list order, so a
 * job keeps its colour across reloads, filters and overlays: hue by view (baseline blue,
 * dense orange, sparse green — distinguishable for the common colour-vision deficiencies),
 * lightness by log10(dose) so low dose is light and high dose is dark.
 */
const VIEW_HUE: Record<string, number> = { baseline: 215, dense: 28, sparse: 150 };

export function jobColor(view: string, dose: number, theme: 'light' | 'dark' = 'light'): string {
  const hue = VIEW_HUE[view] ?? 280;
  // doses 1e3..1e5 → t in [0, 1]; other doses extrapolate and clamp
  const t = Math.min(1, Math.max(0, (Math.log10(Math.max(dose, 1)) - 3) / 2));
  const light = theme === 'dark' ? 78 - 30 * t : 62 - 30 * t;
  const sat = view === 'sparse' ? 60 : 80;
  return `hsl(${hue} ${sat}% ${light.toFixed(0)}%)`;
}

/** The same colour with an alpha, for the faint raw line under a smoothed one. */
export function withAlpha(hsl: string, alpha: number): string {
  return hsl.replace(/\)$/, ` / ${alpha})`);
}
