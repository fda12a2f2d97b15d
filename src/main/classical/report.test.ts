import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvalFixture, type FixtureOutcome, noisyTruthReconstructor } from '../../../test/fixtures/eval.fixture';
import { buildReport } from '../eval/report/build';
import { collectComparison, evaluateStudy, requireManifest } from '../eval/study-eval';
import { pieOptions } from './pie';
import { type ClassicalFile, reconstructStudy } from './study';

let dir: string;
let fx: FixtureOutcome;
let classical: ClassicalFile;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'classical-report-'));
  fx = await createEvalFixture(dir);
  await evaluateStudy({ artifactRoot: fx.roots.artifactRoot, reconstructor: noisyTruthReconstructor });
  classical = await reconstructStudy({ roots: fx.roots, filters: { dose: 1000 }, pie: pieOptions({ iterations: 3 }) });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the report beside the classical arm', () => {
  it('shows PtychoPINN and the classical arm for every (dose, view) with the time each took', async () => {
    expect(classical.rows.map((r) => [r.job_id, r.state])).toEqual([
      ['dose_1000-baseline-classical', 'done'],
      ['dose_1000-dense-classical', 'done'],
      ['dose_1000-sparse-classical', 'done'],
    ]);
    const html = readFileSync((await buildReport({ artifactRoot: fx.roots.artifactRoot })).htmlPath, 'utf8');
    const section = html.slice(html.indexOf('<h2 id="classical">'), html.indexOf('<h2 id="heatmaps">'));
    expect(section).toContain('PtychoPINN and the classical arm');
    expect(section).toContain('<b>epie</b>, 3 iterations, object step α 0.3, probe step β 0.1');
    const rows = [...section.matchAll(/<tr><td class="l">([^<]+)<\/td><td class="l">([^<]+)<\/td>(.*?)<\/tr>/g)];
    expect(rows.map((r) => `${r[1]} ${r[2]}`)).toEqual([
      '1e3 baseline',
      '1e3 dense',
      '1e3 sparse',
      '1e4 baseline',
      '1e4 dense',
      '1e4 sparse',
      '1e5 baseline',
      '1e5 dense',
      '1e5 sparse',
    ]);
    // dose 1000 dense: both arms scored, each with its time; dose 1e4: PtychoPINN only
    expect(rows[1][3]).toMatch(
      /^<td>[-\d.]+<\/td>.*<td>[\d.]+ s<\/td><td>[\d.]+ s<\/td>(<td>[-\d.]+<\/td>){4}<td>[\d.]+ s<\/td><td>3<\/td>$/,
    );
    expect(rows[4][3]).toContain('not reconstructed yet');
    expect(rows[2][3]).toContain('not_trained');
    expect(html).toContain('<a href="#classical">Classical arm</a>');
    // heat maps of the classical arm beside report.html
    for (const k of ['phase_mae_skill', 'amp_mae_skill', 'phase_ssim', 'amp_ssim']) {
      expect(section).toContain(`<img src="heatmap_classical_${k}.png"`);
      expect(existsSync(join(fx.roots.artifactRoot, 'report', `heatmap_classical_${k}.png`))).toBe(true);
    }
    // the dose trend of both arms, side by side on fixed axes
    for (const t of ['PtychoPINN phase skill', 'classical phase skill', 'classical amplitude skill'])
      expect(section).toContain(`aria-label="${t} vs dose (higher is better)"`);
    expect(section).not.toMatch(
      /classical phase skill vs dose[\s\S]*?no evaluated jobs yet[\s\S]*?classical amplitude/,
    );
  });

  it('comparison.json carries the classical row of every (dose, view) reconstructed', () => {
    const root = fx.roots.artifactRoot;
    const c = collectComparison(root, requireManifest(root), new Date());
    expect(c.classical?.map((r) => [r.job_id, r.state, typeof r.phase_mae_skill])).toEqual([
      ['dose_1000-baseline-classical', 'done', 'number'],
      ['dose_1000-dense-classical', 'done', 'number'],
      ['dose_1000-sparse-classical', 'done', 'number'],
    ]);
  });
});
