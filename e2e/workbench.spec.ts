/**
 * The workbench in browser mode, driven as a scientist would: by accessible names (each
 * job cell is a button named like `dose 1000 baseline gs1`, the `Dry run` switch, `Run`).
 * Screenshots of each step go to test-results/screenshots/.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';

const SHOTS = 'test-results/screenshots';

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/workbench-${name}.png` });
}

async function chartPoints(page: Page): Promise<number> {
  const text = (await page.getByTestId('chart-points').textContent()) ?? '';
  return Number(text.replace(/[^0-9]/g, '')) || 0;
}

test('on the demo study: dry-run then train one job, watch its curve, and keep it after a reload', async ({
  page,
  workbench,
}) => {
  test.setTimeout(600_000);
  await page.goto(workbench.url);
  await expect(page.getByRole('heading', { name: 'PtychoPINN study workbench' })).toBeVisible();

  // 0. an empty workspace: every cell says its data is missing; create the demo study
  await expect(page.locator('.matrix [data-state="missing"]')).toHaveCount(9);
  await page.getByRole('button', { name: 'Create demo study' }).click();

  // 1. the workspace's study opens with nine ready jobs
  const cells = page.getByRole('button', { name: /^dose \d+ (baseline gs1|dense gs2|sparse gs2)$/ });
  await expect(cells).toHaveCount(9);
  await expect(page.locator('.matrix [data-state="ready"]')).toHaveCount(9, { timeout: 120_000 });
  await shot(page, '1-demo-study-ready');

  // 2. select one cell and dry-run it
  const cell = page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true });
  await cell.click();
  await expect(cell).toHaveAttribute('aria-pressed', 'true');
  const dryRun = page.getByRole('switch', { name: 'Dry run' });
  await dryRun.check();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const manifest = page.getByTestId('manifest-view');
  await expect(manifest).toContainText('dry_run: true');
  await expect(manifest).toContainText('jobs [1]');
  await expect(cell).toHaveAttribute('data-state', 'planned');
  await expect(page.getByRole('status').last()).toContainText('nothing was trained');
  await shot(page, '2-dry-run-manifest');

  // 3. a real run of one short epoch; the chart gains points while it runs
  await dryRun.uncheck();
  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('n-images').fill('64');
  await page.getByLabel('Batch').fill('8');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(cell).toHaveAttribute('data-state', /queued|running/);
  await expect.poll(() => chartPoints(page), { timeout: 300_000 }).toBeGreaterThan(0);
  const early = await chartPoints(page);
  await shot(page, '3-training-live');
  await expect(cell).toHaveAttribute('data-state', 'done', { timeout: 300_000 });
  expect(await chartPoints(page)).toBeGreaterThan(early);
  await expect(cell).toContainText(/final loss -?\d/);
  await shot(page, '4-done');

  // 4. the manifest carries the result
  await expect(manifest).toContainText('dry_run: false');
  await page.getByRole('searchbox', { name: 'Search the manifest' }).fill('final_loss');
  await expect(manifest.getByText('final_loss:').first()).toBeVisible();
  await shot(page, '5-manifest-result');
  const finalPoints = await chartPoints(page);

  // 5. after a reload the curve is read back from disk
  await page.reload();
  await expect(page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true })).toHaveAttribute(
    'data-state',
    'done',
  );
  await expect.poll(() => chartPoints(page)).toBe(finalPoints);
  await shot(page, '6-after-reload');

  // 6. evaluate: the dose × view heat map scores the trained job, the report adds its pictures
  await page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true }).click();
  await page.getByRole('tab', { name: 'Results' }).click();
  await page.getByRole('button', { name: 'Evaluate trained jobs' }).click();
  const heatmap = page.getByRole('region', { name: 'Dose by view heat map' });
  // the default metric is skill, negative when a short run is worse than a constant image
  await expect(heatmap.getByRole('button', { name: /^-?\d\.\d+(e-?\d+)?$/ })).toHaveCount(1, { timeout: 300_000 });
  await page.getByRole('button', { name: 'Build report' }).click();
  const recon = page.getByRole('region', { name: 'Reconstruction of dose_1000-baseline-gs1' });
  await expect(recon.getByRole('img', { name: /^phase of dose_1000-baseline-gs1/ })).toBeVisible({ timeout: 300_000 });
  await recon.scrollIntoViewIfNeeded();
  await shot(page, '7-results');
});

test('the job matrix works from the keyboard and the workbench has a dark theme', async ({ page, workbench }) => {
  await page.goto(workbench.url);
  // A fresh workspace: nine jobs, all waiting for data, each naming the missing file.
  const cells = page.getByRole('button', { name: /^dose \d+ (baseline gs1|dense gs2|sparse gs2)$/ });
  await expect(cells).toHaveCount(9);
  await expect(page.locator('.matrix [data-state="missing"]')).toHaveCount(9);
  await expect(page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true })).toContainText(
    'patched_train.npz',
  );

  const first = page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true });
  await first.focus();
  await page.keyboard.press('Space');
  await expect(first).toHaveAttribute('aria-pressed', 'true');
  // shift+arrows extend the selection as a rectangle from the anchor
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Shift+ArrowDown');
  const pressed = page.locator('.matrix [aria-pressed="true"]');
  await expect(pressed).toHaveCount(4);
  await expect(page.getByRole('button', { name: 'dose 10000 dense gs2', exact: true })).toBeFocused();
  // ctrl+space toggles one cell out
  await page.keyboard.press('Control+Space');
  await expect(pressed).toHaveCount(3);
  await page.keyboard.press('Control+a');
  await expect(pressed).toHaveCount(9);
  await page.keyboard.press('Escape');
  await expect(pressed).toHaveCount(0);
  // a column header selects the column; a filter chip dims the rest
  await page.getByRole('button', { name: 'select column dense gs2' }).click();
  await expect(pressed).toHaveCount(3);
  await page.getByRole('button', { name: '1e4', exact: true }).click();
  await expect(pressed).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true })).toBeDisabled();
  await expect(page.getByRole('switch', { name: 'Dry run' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeEnabled();

  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.screenshot({ path: `${SHOTS}/workbench-keyboard-dark.png` });
  // the choice is remembered
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
});
