/** Number and time formatting shared by the matrix, queue and chart readout. */
export function formatLoss(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4);
}

export function formatEta(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Dose label the way scientists say it: 1000 → "1e3" (the study's one formatter). */
export { formatDose } from '../../../shared/study';

/** 1234567 → "1,234,567" (toLocaleString is slow enough to show up at 20 updates a second). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * What a cell without a score says. A job that ran and stopped (cancelled, failed, …) is
 * "not_trained" to the evaluation, whose reason names the status: show that status, not
 * "not trained", which reads as "never run".
 */
export function missingLabel(state: string, reason: string | null | undefined): string {
  const m = /^status (cancelled|failed|diverged|interrupted|running|queued|planned|skipped)\b/.exec(reason ?? '');
  if (state === 'not_trained' && m) return m[1];
  return state.replace(/_/g, ' ');
}
