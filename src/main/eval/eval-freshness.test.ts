import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestFile } from '../study/manifest-store';
import { createEvalFixture, type FixtureOutcome, noisyTruthReconstructor } from './eval.fixture';
import { collectComparison, evaluateStudy, readEvalFile } from './study-eval';

let dir: string;
let fx: FixtureOutcome;
const alignment = { stitchCrop: 8 };
const ID = 'dose_10000-baseline-gs1';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'eval-fresh-'));
  fx = await createEvalFixture(dir);
  await evaluateStudy({ artifactRoot: fx.roots.artifactRoot, reconstructor: noisyTruthReconstructor, alignment });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a job's scores when its test data changed", () => {
  it('are stale until evaluated again, and the reconstruction is made anew, not reused', async () => {
    const art = fx.roots.artifactRoot;
    const m = readManifestFile(art).manifest;
    const entry = m?.jobs.find((j) => j.id === ID);
    if (!m || !entry) throw new Error('fixture has no manifest entry');
    const later = new Date(Date.now() + 60_000);
    utimesSync(entry.test_data_path, later, later);
    const row = collectComparison(art, m, new Date()).rows.find((r) => r.job_id === ID);
    expect(row).toMatchObject({ state: 'stale', phase_ssim: null });
    expect(row?.reason).toContain(`test data changed since evaluation (${entry.test_data_path}`);

    const again = await evaluateStudy({
      artifactRoot: art,
      reconstructor: noisyTruthReconstructor,
      alignment,
      jobIds: [ID],
    });
    expect(again.evaluated).toEqual([ID]);
    const e = readEvalFile(join(entry.artifact_dir, 'eval.json'));
    expect(e?.inference?.reused_recon).toBe(false);
  });
});
