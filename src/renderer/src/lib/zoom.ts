/** The reconstruction viewer's one zoom and pan, shared by its images. */
export interface View {
  scale: number;
  x: number;
  y: number;
}

export const FIT: View = { scale: 1, x: 0, y: 0 };

/** Zoom by `factor` about the point (px, py) of the pane, keeping that point still. */
export function zoomAt(v: View, factor: number, px: number, py: number): View {
  const scale = Math.min(32, Math.max(1, v.scale * factor));
  const k = scale / v.scale;
  if (scale === 1) return FIT;
  return { scale, x: px - (px - v.x) * k, y: py - (py - v.y) * k };
}
