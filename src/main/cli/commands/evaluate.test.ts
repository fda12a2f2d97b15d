import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliSync } from '../../../../test/helpers/cli';
import { createEvalFixture, type FixtureOutcome } from '../../../../test/fixtures/eval.fixture';

let dir: string;
let fx: FixtureOutcome;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cli-eval-'));
  fx = await createEvalFixture(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ptycho-study evaluate / report', () => {
  it('evaluate lists what is missing, refuses a model it cannot read (exit 1), and writes the comparison', () => {
    // the fixture's model.onnx files are placeholders without a model.json card
    const r = runCliSync(['evaluate', '--artifact_root', fx.roots.artifactRoot]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('0 of 9 jobs scored');
    expect(r.stdout).toMatch(/dose_100000-dense-gs2\s+not_run: never run under this artifact root/);
    expect(r.stdout).toMatch(/dose_10000-sparse-gs2\s+no_model/);
    expect(r.stdout).toMatch(/dose_1000-baseline-gs1\s+eval_failed: NOT_FOUND: the model has no model\.json card/);
    const csv = readFileSync(join(fx.roots.artifactRoot, 'comparison.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(10);
  });

  it('report writes report.html into <artifact-root>/report even when nothing is scored yet', () => {
    const r = runCliSync(['report', '--artifact-root', fx.roots.artifactRoot]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('0 of 9 jobs scored');
    const html = join(fx.roots.artifactRoot, 'report', 'report.html');
    expect(existsSync(html)).toBe(true);
    expect(readFileSync(html, 'utf8')).toContain('No job has been evaluated yet');
  });

  it('a root without a manifest is a one-line error', () => {
    const r = runCliSync(['evaluate', '--artifact-root', join(dir, 'nowhere')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: NOT_FOUND: no training manifest/);
  });
});
