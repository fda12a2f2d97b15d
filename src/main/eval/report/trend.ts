/**
 * Whether a metric's change with dose is larger than its noise, in words. A difference
 * smaller than the noise is never described as a trend: the noise is twice the seed spread
 * where seeds were repeated, and never less than {@link MIN_SKILL_NOISE} of skill (the
 * spread seen between seeds of one job at these sizes).
 */
import type { ComparisonRow } from '../../../shared/evaluation';
import { formatDose, formatNumber } from '../render/format';

export const MIN_SKILL_NOISE = 0.05;

export interface TrendVerdict {
  view: string;
  /** 'rises' / 'falls': every step between consecutive doses exceeds the noise that way. */
  kind: 'rises' | 'falls' | 'mixed' | 'within-noise' | 'too-few';
  noise: number;
  text: string;
}

type SkillKey = 'phase_mae_skill' | 'amp_mae_skill';
const SD_KEY: Record<SkillKey, 'phase_mae_skill_sd' | 'amp_mae_skill_sd'> = {
  phase_mae_skill: 'phase_mae_skill_sd',
  amp_mae_skill: 'amp_mae_skill_sd',
};

export function skillTrend(rows: readonly ComparisonRow[], view: string, key: SkillKey, label: string): TrendVerdict {
  const pts = rows
    .filter((r) => r.view === view && typeof r[key] === 'number')
    .sort((a, b) => a.dose - b.dose)
    .map((r) => ({ dose: r.dose, v: r[key] as number, sd: r[SD_KEY[key]] }));
  const sds = pts.map((p) => p.sd).filter((v): v is number => typeof v === 'number');
  const noise = Math.max(MIN_SKILL_NOISE, 2 * Math.max(0, ...sds));
  const series = pts.map((p) => `${formatNumber(p.v, 3)} at ${formatDose(p.dose)}`).join(' → ');
  if (pts.length < 2) {
    return {
      view,
      kind: 'too-few',
      noise,
      text: `${view}: ${label} scored at ${pts.length} dose(s); no trend can be read.`,
    };
  }
  const diffs = pts.slice(1).map((p, i) => p.v - pts[i].v);
  const noiseText = sds.length
    ? `noise ${formatNumber(noise, 2)} skill: twice the spread between seeds, at least ${MIN_SKILL_NOISE}`
    : `noise taken as ${MIN_SKILL_NOISE} skill: one seed, so the spread between seeds is not measured`;
  if (diffs.every((d) => d > noise))
    return { view, kind: 'rises', noise, text: `${view}: ${label} rises with dose beyond noise (${series}).` };
  if (diffs.every((d) => d < -noise))
    return { view, kind: 'falls', noise, text: `${view}: ${label} falls with dose beyond noise (${series}).` };
  if (diffs.every((d) => Math.abs(d) <= noise))
    return {
      view,
      kind: 'within-noise',
      noise,
      text: `${view}: ${label} differences between doses are within noise (${noiseText}) — no trend is shown (${series}).`,
    };
  return {
    view,
    kind: 'mixed',
    noise,
    text: `${view}: ${label} does not change monotonically beyond noise (${noiseText}) (${series}).`,
  };
}
