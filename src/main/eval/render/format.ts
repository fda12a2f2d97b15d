/** Number formatting shared by figures, CSV-free text and the HTML report. */

/** Compact, honest: 3 significant digits, exponent form outside [1e-3, 1e4). */
export function formatNumber(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    return `${m.replace(/\.?0+$/, '')}e${Number(e)}`;
  }
  const s = v.toPrecision(digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** An FRC period; 2 px is the Nyquist bound the curve reached without crossing (≤ 2). */
export function formatPeriod(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'n/a';
  return v <= 2 ? '≤2' : formatNumber(v, 3);
}

/** A dose as the study names it in prose: 1e3, 1e4, 1e5 (the study's one formatter). */
export { formatDose } from '../../../shared/study';
