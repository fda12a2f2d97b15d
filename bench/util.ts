/** Timing helpers: medians over interleaved repeats, as the machines drift between minutes. */
import type { CpuTimes } from '../src/main/nn/spin-policy';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function nowSeconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** ours / theirs for higher-is-better figures. */
export function ratio(ours: number, theirs: number | undefined): number | undefined {
  return theirs && Number.isFinite(theirs) && theirs > 0 ? ours / theirs : undefined;
}

/** Share of the CPU time between two readings that the host gave to others (steal). */
export function stolenShare(a: CpuTimes | null, b: CpuTimes | null): number | null {
  if (!a || !b || b.total <= a.total) return null;
  return (b.steal - a.steal) / (b.total - a.total);
}
