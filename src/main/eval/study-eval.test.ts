import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComparisonFile, EvalFile } from '../../shared/evaluation';
import { readManifestFile } from '../study/manifest-store';
import { runPython } from '../util/python';
import { createEvalFixture, type FixtureOutcome, noisyTruthReconstructor } from '../../../test/fixtures/eval.fixture';
import { buildReport } from './report/build';
import { collectComparison, evaluateStudy, type StudyEvalResult } from './study-eval';

let dir: string;
let fx: FixtureOutcome;
let result: StudyEvalResult;
const alignment = { stitchCrop: 8 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'study-eval-'));
  fx = await createEvalFixture(dir);
  result = await evaluateStudy({
    artifactRoot: fx.roots.artifactRoot,
    reconstructor: noisyTruthReconstructor,
    alignment,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const art = () => fx.roots.artifactRoot;
const jobDir = (dose: number, view: string, gs: number) => join(art(), `dose_${dose}`, view, `gs${gs}`);

describe('evaluate over an artifact root', () => {
  it('scores what exists and lists every other job of the design with the reason', () => {
    const state = Object.fromEntries(result.comparison.rows.map((r) => [r.job_id, r.state]));
    expect(state).toEqual({
      'dose_1000-baseline-gs1': 'evaluated',
      'dose_1000-dense-gs2': 'evaluated',
      'dose_1000-sparse-gs2': 'not_trained',
      'dose_10000-baseline-gs1': 'evaluated',
      'dose_10000-dense-gs2': 'evaluated',
      'dose_10000-sparse-gs2': 'no_model',
      'dose_100000-baseline-gs1': 'not_run',
      'dose_100000-dense-gs2': 'not_run',
      'dose_100000-sparse-gs2': 'not_run',
    });
    const reasons = Object.fromEntries(result.missing.map((m) => [m.job_id, m.reason]));
    expect(reasons['dose_1000-sparse-gs2']).toContain('failed');
    expect(reasons['dose_10000-sparse-gs2']).toContain('model.onnx');
    expect(result.evaluated).toHaveLength(4);
  });

  it('writes eval.json per job with metrics, the alignment applied and the parameters', () => {
    const e = EvalFile.parse(JSON.parse(readFileSync(join(jobDir(1000, 'baseline', 1), 'eval.json'), 'utf8')));
    expect(e.job_id).toBe('dose_1000-baseline-gs1');
    expect(e.alignment.coverage).toBe(1);
    expect(Math.abs(e.alignment.registration_shift?.dy ?? 9)).toBeLessThan(0.2);
    expect(e.metrics.phase.ssim).toBeGreaterThan(0);
    expect(e.metrics.phase.ssim).toBeLessThan(1);
    expect(e.parameters.stitch_crop_px).toBe(8);
    expect(e.metrics.amplitude.frc?.crossings.map((c) => c.threshold)).toEqual([0.5, 1 / 7]);
  });

  it('shows the dose trend: every view scores better at the higher dose', () => {
    const get = (id: string) => result.comparison.rows.find((r) => r.job_id === id);
    for (const view of ['baseline-gs1', 'dense-gs2']) {
      const lo = get(`dose_1000-${view}`);
      const hi = get(`dose_10000-${view}`);
      expect(hi?.phase_ssim).toBeGreaterThan(lo?.phase_ssim ?? 1);
      expect(hi?.phase_mae).toBeLessThan(lo?.phase_mae ?? 0);
      // skill against the constant guess scored through the same pipeline rises with the dose
      expect(hi?.phase_mae_skill).toBeGreaterThan(lo?.phase_mae_skill ?? 1);
      expect(lo?.phase_mae_skill).toBeGreaterThan(0.05);
      expect(hi?.phase_mae_skill).toBeLessThan(1);
      expect(hi?.phase_mae_baseline).toBeGreaterThan(hi?.phase_mae ?? 9);
      expect(hi?.not_converged).toBe(false);
    }
  });

  it('eval.json holds the constant-guess and ground-truth scores, and the ground truth scored perfect', () => {
    const e = EvalFile.parse(JSON.parse(readFileSync(join(jobDir(10000, 'baseline', 1), 'eval.json'), 'utf8')));
    expect(e.reference?.ground_truth_perfect).toBe(true);
    expect(e.reference?.ground_truth.phase.mae).toBeLessThan(1e-6);
    expect(e.reference?.baseline.phase.mae).toBeGreaterThan(e.metrics.phase.mae);
    expect(e.alignment.registration_at_cap).toBe(false);
    expect(e.skill?.amplitude.ssim).toBeTypeOf('number');
  });

  it('writes comparison.json and a CSV with one row per job, and records the score in the manifest', () => {
    const c = ComparisonFile.parse(JSON.parse(readFileSync(join(art(), 'comparison.json'), 'utf8')));
    expect(c.rows).toHaveLength(9);
    const csv = readFileSync(join(art(), 'comparison.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(10);
    expect(csv[0].split(',').slice(0, 5)).toEqual(['job_id', 'dose', 'view', 'gridsize', 'state']);
    expect(csv.find((l) => l.startsWith('dose_100000-dense-gs2'))).toContain('not_run');
    const m = readManifestFile(art()).manifest;
    const job = m?.jobs.find((j) => j.id === 'dose_10000-dense-gs2');
    expect(job?.result?.evaluation).toMatchObject({ phase_ssim: expect.any(Number) });
  });

  it('recon.npz is numpy-readable complex64 on the object grid', () => {
    const path = join(jobDir(10000, 'dense', 2), 'recon.npz');
    const out = runPython(
      ['numpy'],
      'import sys, json, numpy as np\nd = np.load(sys.argv[1])\nprint(json.dumps({k: [str(d[k].dtype), list(d[k].shape)] for k in d.files}))',
      [path],
    );
    const keys = JSON.parse(out) as Record<string, [string, number[]]>;
    expect(keys.recon).toEqual(['complex64', [72, 80]]);
    expect(keys.weight).toEqual(['float32', [72, 80]]);
    expect(keys._metadata[0]).toMatch(/^<U/);
  });

  it('a second evaluate reuses recon.npz made from the same model', async () => {
    // with eval.json up to date the job would be kept as it is; without it, only scoring reruns
    rmSync(join(jobDir(1000, 'baseline', 1), 'eval.json'));
    const again = await evaluateStudy({
      artifactRoot: art(),
      reconstructor: null,
      jobIds: ['dose_1000-baseline-gs1'],
      alignment,
    });
    const e = EvalFile.parse(JSON.parse(readFileSync(join(jobDir(1000, 'baseline', 1), 'eval.json'), 'utf8')));
    expect(e.inference?.reused_recon).toBe(true);
    expect(again.evaluated).toEqual(['dose_1000-baseline-gs1']);
    expect(again.comparison.rows.filter((r) => r.state === 'evaluated')).toHaveLength(4);
  });
});

describe('a retrained job', () => {
  it('shows as stale until it is evaluated again', () => {
    const model = join(jobDir(10000, 'baseline', 1), 'model.onnx');
    const later = new Date(Date.now() + 60_000);
    utimesSync(model, later, later);
    const m = readManifestFile(art()).manifest;
    if (!m) throw new Error('no manifest');
    const row = collectComparison(art(), m, new Date()).rows.find((r) => r.job_id === 'dose_10000-baseline-gs1');
    expect(row).toMatchObject({ state: 'stale', phase_ssim: null });
    expect(row?.reason).toContain('evaluate again');
  });
});

describe('report over an artifact root', () => {
  it('writes heat maps, per-job pictures and an offline report.html that shows them with loss curves', async () => {
    const r = await buildReport({ artifactRoot: art() });
    const html = readFileSync(r.htmlPath, 'utf8');
    expect(html).toContain('Dose trend');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const imgs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    expect(imgs).toContain('heatmap_phase_ssim.png');
    // skill first, on fixed ranges, with the constant guess drawn and the trend judged against noise
    expect(imgs).toContain('heatmap_phase_mae_skill.png');
    expect(html).toContain('phase skill (MAE)');
    expect(html).toContain('constant guess');
    expect(html).toMatch(
      /dense: phase skill (rises with dose beyond noise|differences between doses are within noise|does not change)/,
    );
    expect(imgs).toContain('dose_10000-dense-gs2_phase.png');
    for (const src of imgs) expect(existsSync(join(r.reportDir, src))).toBe(true);
    expect(html.match(/aria-label="dose_1000-baseline-gs1 loss"/g)).toHaveLength(1);
    expect(html).toContain('never run');
    // a trained job without a model still shows why, with its loss curve
    expect(html).toContain('Not scored (no model)');
    expect(html).toContain('aria-label="dose_10000-sparse-gs2 loss"');
    const png = readFileSync(join(r.reportDir, 'dose_1000-dense-gs2_error.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});
