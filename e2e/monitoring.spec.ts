/**
 * Monitoring a study in the workbench (browser mode): the curves (outlier-robust smoothing
 * and its readout, legend hide/isolate, x axes, CSV download), pictures while training,
 * cancel and resume, a CLI run seen without a reload, the enlarged reconstruction and the
 * layout at 1024×700. Screenshots go to docs/screenshots/.
 *
 * The curve tests feed synthetic events into the page's CurveStore (the same store the
 * engine's training events feed; the page exposes it with ?bench): a spike at step 2 on
 * every gs1 job, as the study's real runs show. The other tests train for real.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { NINE_DOSES, nineJobCells } from '../test/helpers/nine-jobs';
import { createDemoStudy, expect, test } from './fixtures';

const SHOTS = 'docs/screenshots';
const repoRoot = join(import.meta.dirname, '..');

async function shot(target: Page | Locator, name: string): Promise<void> {
  await target.screenshot({ path: `${SHOTS}/monitoring-${name}.png` });
}

async function chartPoints(page: Page): Promise<number> {
  const text = (await page.getByTestId('chart-points').textContent()) ?? '';
  return Number(text.replace(/[^0-9]/g, '')) || 0;
}

/**
 * seedCurves, until the chart shows all of it: a job-event read of the page's first load
 * (or of a reconnect) that lands after the seed replaces the seeded curves with the job
 * files' (empty) ones, so the seed is made again until it holds.
 */
async function seedCurvesShown(page: Page): Promise<void> {
  await expect
    .poll(async () => {
      if ((await chartPoints(page)) !== 9 * 63) await seedCurves(page);
      return chartPoints(page);
    })
    .toBe(9 * 63);
}

const matrixCell = (page: Page, name: string) => page.locator('.matrix').getByRole('button', { name, exact: true });

/** Nine done jobs with 60 steps each (3 epochs of 20), the gs1 ones with a 10⁴ spike at step 2. */
async function seedCurves(page: Page): Promise<void> {
  await page.evaluate(
    ({ doses, cells }) => {
      type Hook = {
        curves: { replace(id: string, evs: unknown[]): void };
        study: { getState(): { setJobs(d: number[], c: unknown[]): void } };
      };
      const hook = (globalThis as unknown as { __workbenchBench: Hook }).__workbenchBench;
      hook.study.getState().setJobs(doses, cells);
      const t0 = Date.parse('2026-12-03T10:00:00Z');
      cells.forEach((c, k) => {
        const at = (s: number) => new Date(t0 + s * 1000 + k * 100).toISOString();
        const evs: unknown[] = [
          {
            type: 'status',
            time: at(0),
            status: 'started',
            total_steps: 60,
            total_epochs: 3,
            message: 'cpu, batch 8, 20 steps per epoch',
          },
        ];
        for (let s = 1; s <= 60; s++) {
          const loss = s === 2 && c.gridsize === 1 ? 1e4 : -140 - k * 2 + 0.3 * Math.sin(s + k);
          evs.push({ type: 'step', time: at(s), step: s, epoch: Math.floor((s - 1) / 20), loss, samples_per_s: 100 });
          if (s % 20 === 0)
            evs.push({
              type: 'epoch',
              time: at(s + 0.5),
              epoch: s / 20 - 1,
              step: s,
              train_loss: -140 - k * 2,
              val_loss: -143 - k * 2,
              lr: 1e-3,
            });
        }
        hook.curves.replace(c.id, evs);
      });
    },
    { doses: [...NINE_DOSES], cells: nineJobCells('done') },
  );
}

/** Hover the plot at a fraction of its width; the readout row of one job. */
async function readoutAt(page: Page, fraction: number, job: string): Promise<string> {
  const over = page.locator('.chart-canvas .u-over');
  const box = await over.boundingBox();
  if (!box) throw new Error('no plot area');
  await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
  const row = page.getByTestId('chart-readout').locator('.readout-row', { hasText: `${job}:` });
  await expect(row).toBeVisible();
  return (await row.textContent()) ?? '';
}

/** The number after `smoothed ` in a readout row. */
const smoothedOf = (row: string) => Number(/smoothed (-?[\d.e+]+)/.exec(row)?.[1]);

test('curves: smoothing ignores the spike and the readout names raw and smoothed; legend, x axes, CSV', async ({
  page,
  workbench,
}) => {
  await page.goto(`${workbench.url}&bench`);
  await page.locator('.matrix').waitFor();
  await seedCurvesShown(page);
  const curves = page.getByRole('region', { name: 'Training curves' });

  // 1. outlier-robust smoothing: at step 3, just after the spike, the smoothed loss is the real one
  const step3 = 2 / 59; // x runs from step 1 to 60
  let row = await readoutAt(page, step3, 'dose 1000 baseline gs1');
  expect(row).toMatch(/train raw -1\d\d\.\d · smoothed -1\d\d\.\d/);
  expect(Math.abs(smoothedOf(row) + 140)).toBeLessThan(2);
  row = await readoutAt(page, 1 / 59, 'dose 1000 baseline gs1');
  expect(row).toContain('raw 1.000e+4 (outlier: left out of the smoothing)');
  await shot(curves, '1-robust-smoothing');
  // without it, the spike drags the smoothed line thousands above the loss
  await page.getByLabel('Ignore outliers').uncheck();
  row = await readoutAt(page, step3, 'dose 1000 baseline gs1');
  expect(smoothedOf(row)).toBeGreaterThan(1000);
  await page.getByLabel('Ignore outliers').check();

  // 2. legend: click hides a run, Alt+click shows only one, Alt+click again shows all
  const dense = page.getByRole('button', { name: 'dose 1000 dense gs2 curve' });
  await dense.click();
  await expect(dense).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(() => chartPoints(page)).toBe(8 * 63);
  const base = page.getByRole('button', { name: 'dose 10000 baseline gs1 curve' });
  await base.click({ modifiers: ['Alt'] });
  await expect.poll(() => chartPoints(page)).toBe(63);
  await expect(page.locator('.legend-item[aria-pressed="true"]')).toHaveCount(1);
  await shot(curves, '2-legend-isolate');
  await base.click({ modifiers: ['Alt'] });
  await expect.poll(() => chartPoints(page)).toBe(9 * 63);
  // the filter chips and the run search narrow the chart too
  const doseChips = page.getByRole('group', { name: 'dose' });
  await doseChips.getByRole('button', { name: '1e5', exact: true }).click();
  await expect.poll(() => chartPoints(page)).toBe(3 * 63);
  await doseChips.getByRole('button', { name: 'all', exact: true }).click();
  await page.getByRole('searchbox', { name: 'Filter runs' }).fill('sparse');
  await expect.poll(() => chartPoints(page)).toBe(3 * 63);
  await page.getByRole('searchbox', { name: 'Filter runs' }).fill('');

  // 3. x axis: epoch, relative time, wall time
  const xAxis = page.getByLabel('X axis');
  await xAxis.selectOption('epoch');
  await readoutAt(page, 0.5, 'dose 1000 baseline gs1');
  await expect(page.getByTestId('chart-readout').locator('strong')).toHaveText(/^epoch \d\.\d\d$/);
  await expect(page.locator('.chart-canvas')).toHaveAttribute('aria-label', /by epoch/);
  await shot(curves, '3-x-epoch');
  await xAxis.selectOption('relative');
  await readoutAt(page, 0.5, 'dose 1000 baseline gs1');
  await expect(page.getByTestId('chart-readout').locator('strong')).toHaveText(/^\d+\.\d s$/);
  await xAxis.selectOption('wall');
  await readoutAt(page, 0.5, 'dose 1000 baseline gs1');
  await expect(page.getByTestId('chart-readout').locator('strong')).toHaveText(/\d:\d\d/);
  await shot(curves, '3-x-wall-time');
  await xAxis.selectOption('step');

  // 4. CSV download of what is drawn: one row per point, raw and smoothed both
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^loss-by-step-.*\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8').split('\r\n');
  expect(csv[0]).toBe('job,line,step,loss');
  expect(csv).toContain('dose 1000 baseline gs1,raw,2,10000');
  expect(csv.filter((l) => l.startsWith('dose 1000 baseline gs1,smoothed,'))).toHaveLength(60);
  expect(csv.filter((l) => l.includes(',validation,'))).toHaveLength(27);
  await shot(curves, '4-downloads');
  // the nine jobs in the dark theme (the palette test checks their colour distances)
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await shot(curves, '4-palette-dark');
});

test('at 1024×700 nothing is cut, the chart keeps a usable height, and a skip link reaches the matrix', async ({
  page,
  workbench,
}) => {
  await page.setViewportSize({ width: 1024, height: 700 });
  await page.goto(`${workbench.url}&bench`);
  await page.locator('.matrix').waitFor();
  await seedCurvesShown(page);
  // the header fits, nothing scrolls sideways, the plot is tall enough to read
  const heading = await page.getByRole('heading', { name: 'PtychoPINN study workbench' }).boundingBox();
  expect(heading && heading.y >= 0 && heading.x + heading.width <= 1024).toBe(true);
  expect(await page.locator('html').evaluate((html) => html.scrollWidth)).toBeLessThanOrEqual(1024);
  const plot = await page.locator('.chart-canvas .u-over').boundingBox();
  expect(plot?.height ?? 0).toBeGreaterThanOrEqual(150);
  // every badge lies inside its cell
  const cells = page.locator('.matrix .cell');
  expect(await cells.count()).toBe(9);
  for (const c of await cells.all()) {
    const r = await c.boundingBox();
    const b = await c.locator('.badge').boundingBox();
    expect(r && b && b.x + b.width <= r.x + r.width + 0.5 && b.y + b.height <= r.y + r.height + 0.5).toBe(true);
  }
  await expect(page.getByTestId('workspace-hint')).toContainText('serve --workspace');
  await shot(page, '5-1024x700');
  // the first Tab stop skips to the matrix; the next one is in it
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to the job matrix' })).toBeFocused();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(page.locator('.matrix :focus')).toHaveCount(1);
});

test('training: previews change between epochs; cancel, then Resume continues the curve; enlarged reconstruction', async ({
  page,
  workbench,
}) => {
  test.setTimeout(900_000);
  await page.goto(workbench.url);
  await createDemoStudy(page);
  const cell = matrixCell(page, 'dose 1000 baseline gs1');
  await cell.click();
  await page.getByLabel('Epochs').fill('8');
  await page.getByLabel('n-images').fill('64');
  await page.getByLabel('Batch').fill('8');
  await page.getByRole('button', { name: 'Run', exact: true }).click();

  // 1. a preview per epoch, live: the picture changes from one epoch to the next
  const previews = page.getByRole('complementary', { name: 'Reconstruction previews' });
  const img = previews.getByRole('img', { name: /^preview of dose 1000 baseline gs1 after epoch/ });
  await expect(img).toHaveAttribute('data-epoch', '0', { timeout: 300_000 });
  const first = await img.getAttribute('src');
  await expect(img).toHaveAttribute('data-epoch', '1', { timeout: 120_000 });
  expect(await img.getAttribute('src')).not.toBe(first);
  await shot(page.getByRole('region', { name: 'Training curves' }), '6-live-preview');

  // a reload mid-run: the running cell shows where the job is at once (read back from its events), not "starting…"
  await page.reload();
  await expect(cell).toHaveAttribute('data-state', 'running');
  await expect(cell).toContainText(/epoch \d\/8/, { timeout: 10_000 });
  await expect.poll(() => chartPoints(page)).toBeGreaterThan(0);
  await cell.click();

  // 2. cancel during the third epoch: the cell says why and where it stopped
  await page.getByRole('button', { name: 'Cancel dose 1000 baseline gs1' }).click();
  await expect(cell).toHaveAttribute('data-state', 'cancelled', { timeout: 120_000 });
  await expect(cell).toContainText(/cancelled at epoch \d/);
  const atCancel = await chartPoints(page);
  expect(atCancel).toBeGreaterThan(0);
  const resume = page.getByRole('region', { name: 'Resume stopped jobs' });
  await expect(resume).toContainText('checkpoint on disk');
  await shot(page, '7-cancelled');

  // 3. Resume continues from the checkpoint: the curve is never reset, it grows to the end
  await resume.getByRole('button', { name: /^Resume/ }).click();
  await expect(cell).toHaveAttribute('data-state', /queued|running/, { timeout: 60_000 });
  let least = atCancel;
  await expect
    .poll(
      async () => {
        least = Math.min(least, await chartPoints(page));
        return cell.getAttribute('data-state');
      },
      { timeout: 600_000, intervals: [500] },
    )
    .toBe('done');
  // a resumed curve drops at most the steps after the checkpoint; a fresh start would drop them all
  expect(least).toBeGreaterThan(atCancel - 10);
  expect(await chartPoints(page)).toBeGreaterThan(atCancel);
  // the cancelled attempt keeps its own curve: overlaid, it adds its points to the chart
  const done = await chartPoints(page);
  await page.getByLabel('Earlier attempts').check();
  await expect.poll(() => chartPoints(page)).toBeGreaterThan(done);
  await shot(page.getByRole('region', { name: 'Training curves' }), '8-attempts-overlay');
  await page.getByLabel('Earlier attempts').uncheck();
  await page.getByRole('tab', { name: /^Log/ }).click();
  await expect(page.getByRole('tabpanel')).toContainText(/resuming at step \d+/);
  await shot(page, '8-resumed-done');

  // 4. results: evaluate, build the report, enlarge the reconstruction with synchronized zoom
  await page.getByRole('tab', { name: 'Results' }).click();
  await page.getByRole('button', { name: 'Evaluate trained jobs' }).click();
  await expect(page.getByRole('region', { name: 'Dose by view heat map' })).toBeVisible({ timeout: 300_000 });
  await page.getByRole('button', { name: 'Build report' }).click();
  const recon = page.getByRole('region', { name: 'Reconstruction of dose_1000-baseline-gs1' });
  const phase = recon.getByRole('img', { name: /^phase of dose_1000-baseline-gs1/ });
  await expect(phase).toBeVisible({ timeout: 300_000 });
  await expect(page.getByRole('link', { name: 'Open report' })).toBeVisible();
  // the report opens in a new tab, served by the local server with its images
  const [report] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('link', { name: 'Open report' }).click(),
  ]);
  await report.waitForLoadState();
  await expect(report).toHaveTitle(/reconstruction report/);
  const firstImage = report.locator('img').first();
  await expect(firstImage).toBeVisible();
  expect(await firstImage.evaluate((im) => (im as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(
    0,
  );
  await report.close();
  await phase.click();
  const viewer = page.getByRole('dialog', { name: /^Enlarged reconstruction/ });
  await expect(viewer).toBeVisible();
  await expect(viewer.getByRole('img')).toHaveCount(3);
  await viewer.getByRole('button', { name: 'Zoom in' }).click();
  await viewer.getByRole('button', { name: 'Zoom in' }).click();
  // one zoom for all three images
  const transforms = await Promise.all((await viewer.getByRole('img').all()).map((im) => im.getAttribute('style')));
  expect(new Set(transforms).size).toBe(1);
  expect(transforms[0]).toContain('scale(2.25)');
  await shot(page, '9-enlarged-reconstruction');
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
});

test('a CLI run into the open artifact root appears in the workbench without a reload', async ({ page, workbench }) => {
  test.setTimeout(600_000);
  await page.goto(workbench.url);
  await createDemoStudy(page);
  const cell = matrixCell(page, 'dose 1000 dense gs2');
  const w = workbench.workspace;
  const cli = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin', 'ptycho-study.mjs'),
      'train',
      '--phase-c-root',
      join(w, 'phase_c'),
      '--phase-d-root',
      join(w, 'phase_d'),
      '--artifact-root',
      join(w, 'artifacts'),
      '--job',
      'dose_1000-dense-gs2',
      '--max-epochs',
      '2',
      '--n-images',
      '32',
      '--batch-size',
      '8',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  cli.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  cli.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => cli.on('exit', resolve));
  await expect(cell).toHaveAttribute('data-state', 'running', { timeout: 180_000 });
  await cell.click();
  // its curve is followed from its events file while it trains
  await expect.poll(() => chartPoints(page), { timeout: 180_000 }).toBeGreaterThan(0);
  await shot(page, '10-cli-run-running');
  expect(await exited, out).toBe(0);
  await expect(cell).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(cell).toContainText(/final loss -?\d/);
  await shot(page, '11-cli-run-done');
});
