/**
 * Scores that a flat image cannot game. Every reconstruction is scored beside two references
 * that go through exactly the same pipeline (same scan box, coverage, registration, trims,
 * phase and amplitude alignment):
 *   - a constant guess (1 + 0i everywhere: after alignment, the mean amplitude and a flat
 *     phase) — what a model that learned nothing would score;
 *   - the ground truth itself — what a perfect model scores (must be perfect; checked).
 * Skill per metric = (baseline − model) / (baseline − perfect): 0 = no better than a
 * constant, 1 = perfect, negative = worse than a constant. Raw SSIM alone says little here:
 * a flat phase image scores 0.72–0.76 against this study's objects.
 */
import type { AlignInput, AlignmentOptions } from './align';
import type { ComplexImage } from './image';
import { type ChannelMetrics, type Scores, scoreReconstruction } from './score';

/** A job whose MAE skill is at or below this on either channel learned nothing usable. */
export const NOT_CONVERGED_SKILL = 0.05;

export const SKILL_METRICS = ['mae', 'mse', 'ssim', 'ms_ssim', 'frc50_period_px'] as const;
export type SkillMetric = (typeof SKILL_METRICS)[number];
export type ChannelSkill = Record<SkillMetric, number | null>;
export interface Skill {
  amplitude: ChannelSkill;
  phase: ChannelSkill;
}

export interface ReferenceScores {
  baseline: Scores;
  groundTruth: Scores;
}

/** The reconstruction replaced by a constant (1 + 0i), with the same coverage. */
export function constantGuess(like: ComplexImage): ComplexImage {
  return {
    height: like.height,
    width: like.width,
    re: new Float64Array(like.re.length).fill(1),
    im: new Float64Array(like.re.length),
  };
}

/** The constant guess and the ground truth, scored through the pipeline the model's reconstruction went through. */
export function referenceScores(input: AlignInput, options: Partial<AlignmentOptions>): ReferenceScores {
  return {
    baseline: scoreReconstruction({ ...input, recon: constantGuess(input.recon) }, options).scores,
    groundTruth: scoreReconstruction({ ...input, recon: input.groundTruth }, options).scores,
  };
}

export const frc50Period = (m: ChannelMetrics): number | null =>
  m.frc?.crossings.find((c) => Math.abs(c.threshold - 0.5) < 1e-9)?.periodPx ?? null;

const metricOf = (m: ChannelMetrics, k: SkillMetric): number | null => {
  const v = k === 'frc50_period_px' ? frc50Period(m) : m[k];
  return v !== null && Number.isFinite(v) ? v : null;
};

/** (baseline − model) / (baseline − perfect); null when undefined (no value, or baseline already perfect). */
export function skillOf(model: number | null, baseline: number | null, perfect: number | null): number | null {
  if (model === null || baseline === null || perfect === null) return null;
  const span = baseline - perfect;
  if (!(Math.abs(span) > 1e-12)) return null;
  return (baseline - model) / span;
}

function channelSkill(model: ChannelMetrics, baseline: ChannelMetrics, perfect: ChannelMetrics): ChannelSkill {
  const out = {} as ChannelSkill;
  for (const k of SKILL_METRICS) out[k] = skillOf(metricOf(model, k), metricOf(baseline, k), metricOf(perfect, k));
  return out;
}

export function skillScores(model: Scores, ref: ReferenceScores): Skill {
  return {
    amplitude: channelSkill(model.amplitude, ref.baseline.amplitude, ref.groundTruth.amplitude),
    phase: channelSkill(model.phase, ref.baseline.phase, ref.groundTruth.phase),
  };
}

/** The ground truth through the pipeline scored perfect (MAE 0, SSIM 1 on both channels). */
export function isPerfect(s: Scores, tol = 1e-6): boolean {
  const ok = (m: ChannelMetrics) => m.mae <= tol && m.ssim !== null && Math.abs(m.ssim - 1) <= tol;
  return ok(s.amplitude) && ok(s.phase);
}

/** "not converged" when MAE skill is ≤ NOT_CONVERGED_SKILL on either channel; the reason names them. */
export function convergence(skill: Skill): { notConverged: boolean; reason: string | null } {
  const weak: string[] = [];
  for (const ch of ['amplitude', 'phase'] as const) {
    const s = skill[ch].mae;
    if (s === null || s <= NOT_CONVERGED_SKILL) {
      weak.push(`${ch} MAE skill ${s === null ? 'undefined' : s.toFixed(3)}`);
    }
  }
  if (!weak.length) return { notConverged: false, reason: null };
  return {
    notConverged: true,
    reason: `${weak.join(', ')} ≤ ${NOT_CONVERGED_SKILL}: no better than a constant image`,
  };
}
