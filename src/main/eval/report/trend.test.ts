import { describe, expect, it } from 'vitest';
import { ComparisonRow } from '../../../shared/evaluation';
import { SCORE_COLUMNS } from '../comparison';
import { skillTrend } from './trend';

const row = (dose: number, skill: number, sd: number | null = null) =>
  ComparisonRow.parse({
    job_id: `dose_${dose}-baseline-gs1`,
    dose,
    view: 'baseline',
    gridsize: 1,
    state: 'evaluated',
    reason: null,
    job_status: 'done',
    final_loss: null,
    eval_path: null,
    ...Object.fromEntries(SCORE_COLUMNS.map((k) => [k, null])),
    phase_mae_skill: skill,
    phase_mae_skill_sd: sd,
  });

describe('a dose trend is stated only beyond its noise', () => {
  it('rising skill beyond 0.05 per dose step is a trend', () => {
    const t = skillTrend([row(1e3, 0.1), row(1e4, 0.3), row(1e5, 0.5)], 'baseline', 'phase_mae_skill', 'phase skill');
    expect(t.kind).toBe('rises');
  });

  it('differences below the noise floor are said to be noise (the 0.4065 vs 0.4200 case)', () => {
    const t = skillTrend(
      [row(1e3, 0.4065), row(1e4, 0.41), row(1e5, 0.42)],
      'baseline',
      'phase_mae_skill',
      'phase skill',
    );
    expect(t.kind).toBe('within-noise');
    expect(t.text).toMatch(/no trend is shown/);
  });

  it('the seed spread widens the noise: a 0.1 rise with ±0.08 between seeds is not a trend', () => {
    const t = skillTrend(
      [row(1e3, 0.2, 0.08), row(1e4, 0.3, 0.08), row(1e5, 0.4, 0.08)],
      'baseline',
      'phase_mae_skill',
      'phase skill',
    );
    expect(t.noise).toBeCloseTo(0.16, 12);
    expect(t.kind).toBe('within-noise');
  });
});
