import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifestFile } from '../study/manifest-store';
import { createEvalFixture, type FixtureOutcome, noisyTruthReconstructor } from '../../../test/fixtures/eval.fixture';
import { buildReport } from './report/build';
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

describe('evaluate twice with nothing changed', () => {
  it('keeps up-to-date scores, says so, rescores a retrained job and everything with force', async () => {
    const art = fx.roots.artifactRoot;
    // the test above moved a test file's time into the future: put it back
    const before = readManifestFile(art).manifest?.jobs.find((j) => j.id === ID);
    if (!before) throw new Error('fixture has no manifest entry');
    const past = new Date(Date.now() - 60_000);
    utimesSync(before.test_data_path, past, past);
    const first = await evaluateStudy({ artifactRoot: art, reconstructor: noisyTruthReconstructor, alignment });
    const scored = first.comparison.rows.filter((r) => r.state === 'evaluated').map((r) => r.job_id);
    expect(scored.length).toBeGreaterThan(1);

    const messages: string[] = [];
    const second = await evaluateStudy({
      artifactRoot: art,
      reconstructor: noisyTruthReconstructor,
      alignment,
      onProgress: (m) => messages.push(m),
    });
    expect(second.evaluated).toEqual([]);
    expect(second.upToDate.sort()).toEqual([...scored].sort());
    expect(messages.filter((m) => m.includes('up to date')).length).toBe(scored.length);
    // the kept rows carry the same scores as before
    for (const id of scored) {
      const a = first.comparison.rows.find((r) => r.job_id === id);
      const b = second.comparison.rows.find((r) => r.job_id === id);
      expect(b?.phase_mae).toBe(a?.phase_mae);
      expect(b?.state).toBe('evaluated');
    }

    // a retrained model makes exactly that job run again, with the reason
    const m = readManifestFile(art).manifest;
    const entry = m?.jobs.find((j) => j.id === ID);
    if (!entry) throw new Error('fixture has no manifest entry');
    const later = new Date(Date.now() + 120_000);
    utimesSync(join(entry.artifact_dir, 'model.onnx'), later, later);
    const third = await evaluateStudy({
      artifactRoot: art,
      reconstructor: noisyTruthReconstructor,
      alignment,
      onProgress: (msg) => messages.push(msg),
    });
    expect(third.evaluated).toEqual([ID]);
    expect(messages).toContain(`evaluating ${ID}: model.onnx changed (retrained)`);

    // other scoring settings, or force, rescore everything
    const other = await evaluateStudy({
      artifactRoot: art,
      reconstructor: noisyTruthReconstructor,
      alignment: { ...alignment, stitchCrop: 6 },
    });
    expect(other.evaluated.sort()).toEqual([...scored].sort());
    const forced = await evaluateStudy({
      artifactRoot: art,
      reconstructor: noisyTruthReconstructor,
      alignment: { ...alignment, stitchCrop: 6 },
      force: true,
    });
    expect(forced.evaluated.sort()).toEqual([...scored].sort());
  });
});

describe('report twice with nothing changed', () => {
  it('keeps the report, redraws it when an input changed or with force', async () => {
    const art = fx.roots.artifactRoot;
    const first = await buildReport({ artifactRoot: art });
    expect(first.upToDate).toBeFalsy();
    const messages: string[] = [];
    const second = await buildReport({ artifactRoot: art, onProgress: (m) => messages.push(m) });
    expect(second.upToDate).toBe(true);
    expect(second.files).toContain(first.htmlPath);
    expect(messages).toContain('report up to date: no input changed since it was drawn');

    const entry = readManifestFile(art).manifest?.jobs.find((j) => j.id === ID);
    if (!entry) throw new Error('fixture has no manifest entry');
    const later = new Date(Date.now() + 180_000);
    utimesSync(join(entry.artifact_dir, 'eval.json'), later, later);
    const third = await buildReport({ artifactRoot: art, onProgress: (m) => messages.push(m) });
    expect(third.upToDate).toBeFalsy();
    expect(messages.some((m) => m.startsWith('drawing the report: input changed:') && m.includes('eval.json'))).toBe(
      true,
    );
    expect((await buildReport({ artifactRoot: art })).upToDate).toBe(true);
    expect((await buildReport({ artifactRoot: art, force: true })).upToDate).toBeFalsy();
  });
});
