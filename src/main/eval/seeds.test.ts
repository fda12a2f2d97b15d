import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ComparisonRow } from '../../shared/evaluation';
import { runCli } from '../cli/run';
import { buildComparison, SCORE_COLUMNS } from './comparison';
import { aggregateSeeds, seedRoots } from './seeds';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seeds-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NULLS = Object.fromEntries(['final_loss', 'eval_path', ...SCORE_COLUMNS].map((k) => [k, null]));

const row = (phaseSkill: number | null, notConverged = false) =>
  ComparisonRow.parse({
    ...NULLS,
    job_id: 'dose_1000-baseline-gs1',
    dose: 1000,
    view: 'baseline',
    gridsize: 1,
    state: phaseSkill === null ? 'not_trained' : 'evaluated',
    reason: phaseSkill === null ? 'status failed' : null,
    job_status: 'done',
    phase_mae: phaseSkill === null ? null : 0.3 - phaseSkill / 10,
    phase_mae_skill: phaseSkill,
    amp_mae_skill: phaseSkill === null ? null : phaseSkill / 2,
    not_converged: phaseSkill === null ? null : notConverged,
  });

const comparison = (r: ComparisonRow) => buildComparison(dir, [1000], ['baseline'], [r], new Date(0));

describe('repeated seeds', () => {
  it('rows are the mean over the seeds that scored the job, with the seeds listed and the spread of skill', () => {
    const agg = aggregateSeeds(
      dir,
      [
        { seed: 1, comparison: comparison(row(0.2)) },
        { seed: 2, comparison: comparison(row(0.4, true)) },
        { seed: 3, comparison: comparison(row(null)) },
      ],
      new Date(0),
    );
    const r = agg.rows[0];
    expect(r.seeds).toEqual([1, 2]);
    expect(r.phase_mae_skill).toBeCloseTo(0.3, 12);
    expect(r.phase_mae).toBeCloseTo(0.27, 12);
    expect(r.phase_mae_skill_sd).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(r.amp_mae_skill_sd).toBeCloseTo(Math.SQRT2 * 0.05, 12);
    expect(r.not_converged).toBe(true);
    expect(r.state).toBe('evaluated');
  });

  it('train --seeds 1,2 --dry-run plans the study once per seed into seed_<s>/, which evaluate finds', async () => {
    const pc = join(dir, 'phase_c');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await runCli(['simulate', '--preset', 'demo', '--out', pc, '--doses', '1e3'])).toBe(0);
      const art = join(dir, 'art');
      const code = await runCli([
        'train',
        '--phase-c-root',
        pc,
        '--phase-d-root',
        join(dir, 'phase_d'),
        '--artifact-root',
        art,
        '--view',
        'baseline',
        '--dose',
        '1000',
        '--dry-run',
        '--seeds',
        '1,2',
      ]);
      expect(code).toBe(0);
      for (const s of [1, 2]) {
        const m = JSON.parse(readFileSync(join(art, `seed_${s}`, 'training_manifest.json'), 'utf8'));
        expect(m.jobs[0].config.training.seed).toBe(s);
      }
      expect(seedRoots(art).map((s) => s.seed)).toEqual([1, 2]);
      expect(existsSync(join(art, 'training_manifest.json'))).toBe(false);
    } finally {
      log.mockRestore();
    }
  }, 60_000);

  it('a plain artifact root has no seed roots', () => {
    const plain = join(dir, 'plain');
    mkdirSync(join(plain, 'seed_1'), { recursive: true });
    writeFileSync(join(plain, 'training_manifest.json'), '{}');
    expect(seedRoots(plain)).toEqual([]);
  });
});
