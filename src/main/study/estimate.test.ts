import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PRESET_FILE, PresetRecord, STUDY_PRESETS } from '../../shared/presets';
import { runCli } from '../cli/run';
import { estimatePlan, measuredSecondsPerStep } from './estimate';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'estimate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.join(' '));
  });
  try {
    const code = await runCli(args);
    return { code, out: lines.join('\n') };
  } finally {
    log.mockRestore();
  }
}

describe('presets carry a budget, and a run says what it will cost before it starts', () => {
  it('simulate --preset demo records the preset; train --dry-run prints steps per epoch, total steps and time', async () => {
    const pc = join(dir, 'phase_c');
    const s = await cli(['simulate', '--preset', 'demo', '--out', pc, '--doses', '1e3']);
    expect(s.code).toBe(0);
    expect(s.out).toContain('Preset demo');
    const rec = PresetRecord.parse(JSON.parse(readFileSync(join(pc, PRESET_FILE), 'utf8')));
    expect(rec.max_epochs).toBe(STUDY_PRESETS.demo.maxEpochs);
    const t = await cli([
      'train',
      '--phase-c-root',
      pc,
      '--phase-d-root',
      join(dir, 'phase_d'),
      '--artifact-root',
      join(dir, 'art'),
      '--view',
      'baseline',
      '--dose',
      '1000',
      '--dry-run',
      '--allow-missing-phase-d',
    ]);
    expect(t.code).toBe(0);
    expect(t.out).toContain('Estimated cost (preset demo');
    // 181 training patterns, 5% held out → 171 groups, batch 16 → 11 steps per epoch, 3 epochs
    expect(t.out).toMatch(
      /dose_1000-baseline-gs1: 181 groups \(171 train \/ 10 validation\), batch 16: 11 steps\/epoch × 3 epochs = 33 steps ≈ \d+ s at [\d.]+ s\/step \(npm run bench/,
    );
    const m = JSON.parse(readFileSync(join(dir, 'art', 'training_manifest.json'), 'utf8'));
    expect(m.design.name).toBe('demo');
  }, 60_000);

  it("the estimate counts the study file's training_overrides (batch, validation split), under the knobs", async () => {
    const pc = join(dir, 'phase_c');
    if (!existsSync(join(pc, PRESET_FILE)))
      expect((await cli(['simulate', '--preset', 'demo', '--out', pc, '--doses', '1e3'])).code).toBe(0);
    const study = join(dir, 'overrides.json');
    writeFileSync(study, JSON.stringify({ training_overrides: { batch_size: 8, validation_split: 0.2 } }));
    const args = (extra: string[]) => [
      'train',
      '--phase-c-root',
      pc,
      '--phase-d-root',
      join(dir, 'phase_d'),
      '--artifact-root',
      join(dir, 'art-overrides'),
      '--view',
      'baseline',
      '--dose',
      '1000',
      '--dry-run',
      '--allow-missing-phase-d',
      '--study',
      study,
      ...extra,
    ];
    // 181 groups, 20% held out → 144 train / 37 validation; batch 8 → 18 steps per epoch
    const t = await cli(args([]));
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/181 groups \(144 train \/ 37 validation\), batch 8: 18 steps\/epoch × 3 epochs = 54 steps/);
    // a knob given on the command line wins over the study file
    const k = await cli(args(['--batch-size', '32']));
    expect(k.code).toBe(0);
    expect(k.out).toMatch(/181 groups \(144 train \/ 37 validation\), batch 32: 5 steps\/epoch/);
  }, 60_000);

  it('the step rate comes from steps already trained under the artifact root when there are some', async () => {
    const art = join(dir, 'rate');
    const job = join(art, 'dose_1000', 'baseline', 'gs1');
    mkdirSync(job, { recursive: true });
    const steps = [8, 16, 32, 16, 16].map((sps, i) =>
      JSON.stringify({ type: 'step', time: '', step: i + 1, epoch: 0, loss: -1, samples_per_s: sps }),
    );
    writeFileSync(join(job, 'events.jsonl'), `${steps.join('\n')}\n`);
    expect(measuredSecondsPerStep(art, 1, 16)).toBe(1);
    expect(measuredSecondsPerStep(art, 2, 16)).toBeNull();
    const e = await estimatePlan(
      [
        {
          id: 'dose_1000-baseline-gs1',
          gridsize: 1,
          trainDataPath: join(dir, 'phase_c', 'dose_1000', 'patched_train.npz'),
        },
      ],
      { artifactRoot: art, maxEpochs: 2 },
    );
    expect(e.jobs[0]).toMatchObject({
      groups: 181,
      trainGroups: 171,
      validationGroups: 10,
      batchSize: 16,
      epochs: 2,
      stepsPerEpoch: 11,
      totalSteps: 22,
      secondsPerStep: 1,
      seconds: 22,
    });
    expect(e.jobs[0].rateSource).toMatch(/earlier gs1 jobs/);
  });
});
