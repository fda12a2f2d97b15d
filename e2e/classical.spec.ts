/**
 * The classical row in browser mode, on the demo study: its settings (LSQML with the TV
 * prior, a refused value disabling Reconstruct, the terminal command; kept across a reload),
 * and a reconstruction started right behind a training run — it waits `queued` in the one run
 * queue, listed in the run queue panel between the training runs it was queued among, then
 * runs and lands in the row with its error curve.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createDemoStudy, expect, test } from './fixtures';

const SHOTS = join(import.meta.dirname, '..', 'docs', 'screenshots');

test('the Classical row sets LSQML with its TV prior; a refused value disables Reconstruct', async ({
  page,
  workbench,
}) => {
  test.setTimeout(300_000);
  await page.goto(workbench.url);
  await createDemoStudy(page);
  await page.getByRole('button', { name: 'dose 100000 dense gs2', exact: true }).click();
  await page.getByRole('checkbox', { name: /Classical row/ }).check();
  const row = page.getByRole('region', { name: 'Classical arm' });
  const start = row.getByRole('button', { name: /^Reconstruct dose .* dense$/ });
  const command = row.locator('details.cli code');
  await expect(row.getByRole('textbox', { name: 'TV weight' })).toHaveCount(0); // ePIE has no prior
  await row.getByRole('combobox', { name: 'algorithm' }).selectOption('lsqml');
  const tv = row.getByRole('textbox', { name: 'TV weight' });
  await tv.fill('-0.5');
  await expect(tv).toHaveAttribute('aria-invalid', 'true');
  await expect(row.getByRole('alert')).toContainText("TV weight: a number ≥ 0, not '-0.5'");
  await expect(start).toBeDisabled();
  await tv.fill('5e-5');
  await expect(start).toBeEnabled();
  const iterations = row.getByRole('textbox', { name: 'iterations' });
  await iterations.fill('0');
  await expect(row.getByRole('alert')).toContainText('iterations: a whole number from 1 to 10000');
  await expect(start).toBeDisabled();
  await iterations.fill('8');
  await row.getByRole('checkbox', { name: 'probe update' }).uncheck();
  await expect(start).toBeEnabled();
  await row.locator('details.cli summary').click();
  await expect(command).toHaveText(
    /^ptycho-study reconstruct --phase-c-root \S+ --phase-d-root \S+ --artifact-root \S+ --algorithm lsqml --iterations 8 --probe-update off --tv 0\.00005 --dose 100000 --view dense$/,
  );
  await start.click();
  const cell = row.locator('[data-classical="dose_100000-dense-classical"]');
  await expect(cell.locator('.badge')).toHaveText('done', { timeout: 120_000 });
  await expect(cell.locator('.cell-iterations')).toHaveText('8/8');
  await expect(cell.locator('.cell-error')).toHaveText(/^error \d\.\d\de-\d$/);
  await expect(cell.locator('.cell-skill')).toHaveText(/^phase skill -?\d\.\d{3}$/);
  // every value in full in the cell's title
  await expect(cell).toHaveAttribute(
    'title',
    /^dense: done · iteration 8\/8 · data-fit error \d\.\d{4}e-\d · phase skill/,
  );
  await expect(
    row.getByRole('img', { name: 'dose_100000-dense-classical data-fit error per iteration' }),
  ).toBeVisible();
  await expect(row.locator('[data-classical="dose_1000-sparse-classical"] .badge')).toHaveText('not run');

  // cancel mid-run, then Resume from the cell continues with the settings the job was made with
  await page.getByRole('button', { name: 'dose 1000 sparse gs2', exact: true }).click();
  await row.getByRole('combobox', { name: 'algorithm' }).selectOption('epie');
  await iterations.fill('5000');
  await row.getByRole('button', { name: /^Reconstruct dose .* sparse$/ }).click();
  const sparse = row.locator('[data-classical="dose_1000-sparse-classical"]');
  await expect(sparse.locator('.cell-iterations')).toHaveText(/^([2-9]|\d\d+)\/5000$/, { timeout: 60_000 });
  // the curve draws live, while the job runs
  await expect(sparse.locator('.badge')).toHaveText('running');
  await expect(
    sparse.getByRole('img', { name: 'dose_1000-sparse-classical data-fit error per iteration' }),
  ).toBeVisible();
  await row.getByRole('button', { name: 'Cancel' }).click();
  await expect(sparse.locator('.badge')).toHaveText('cancelled', { timeout: 60_000 });
  const reached = Number((await sparse.locator('.cell-detail').first().textContent())?.split('/')[0]);
  await sparse.getByRole('button', { name: 'Resume dose_1000-sparse-classical' }).click();
  await expect(sparse.locator('.badge')).toHaveText(/queued|running/);
  await expect
    .poll(async () => Number((await sparse.locator('.cell-detail').first().textContent())?.split('/')[0]), {
      timeout: 60_000,
    })
    .toBeGreaterThan(reached + 1);
  // the run queue panel lists it as classical, with its iterations, and cancels it
  const queued = page.getByRole('region', { name: 'Run queue' }).getByTestId('queue-dose_1000-sparse-classical');
  await expect(queued.locator('.qkind')).toHaveText('classical');
  await expect(queued.locator('.badge')).toHaveText('running');
  await expect(queued).toContainText(/iteration \d+\/5000/);
  await expect(queued.getByRole('progressbar', { name: 'progress classical dose 1000 sparse' })).toBeVisible();
  await queued.getByRole('button', { name: 'Cancel classical dose 1000 sparse' }).click();
  await expect(sparse.locator('.badge')).toHaveText('cancelled', { timeout: 60_000 });
  await expect(queued.locator('.badge')).toHaveText('cancelled');
  await expect(sparse.locator('.cell-iterations')).toHaveText(/\/5000$/);

  // the curve is kept: a reload reads it back from the job's events; the settings are kept for the study
  await page.reload();
  await page.getByRole('checkbox', { name: /Classical row/ }).check();
  await expect(
    row.getByRole('img', { name: 'dose_100000-dense-classical data-fit error per iteration' }),
  ).toBeVisible();
  await expect(row.getByRole('combobox', { name: 'algorithm' })).toHaveValue('epie');
  await expect(row.getByRole('textbox', { name: 'iterations' })).toHaveValue('5000');
  await expect(row.getByRole('checkbox', { name: 'probe update' })).not.toBeChecked();
  await row.getByRole('combobox', { name: 'algorithm' }).selectOption('lsqml');
  await expect(row.getByRole('textbox', { name: 'TV weight' })).toHaveValue('5e-5');
  await row.getByRole('textbox', { name: 'TV weight' }).fill('-1');
  await page.reload();
  await page.getByRole('checkbox', { name: /Classical row/ }).check();
  await expect(row.getByRole('combobox', { name: 'algorithm' })).toHaveValue('lsqml');
  await expect(row.getByRole('textbox', { name: 'TV weight' })).toHaveValue('-1');
  await expect(row.getByRole('alert')).toHaveText("TV weight: a number ≥ 0, not '-1'");
  await expect(row.getByRole('button', { name: /^Reconstruct/ })).toBeDisabled();
  // the fields keep one baseline while a refusal shows under one of them, and stay inside the row at 1024×700
  const fields = ['algorithm', 'iterations', 'TV weight'].map((name) =>
    name === 'algorithm' ? row.getByRole('combobox', { name }) : row.getByRole('textbox', { name }),
  );
  for (const size of [
    { width: 1280, height: 800 },
    { width: 1024, height: 700 },
  ]) {
    await page.setViewportSize(size);
    const region = (await row.boundingBox())!;
    const boxes = await Promise.all(fields.map(async (f) => (await f.boundingBox())!));
    const bottoms = boxes.map((b) => b.y + b.height);
    expect(Math.max(...bottoms) - Math.min(...bottoms), `field bottoms at ${size.width}: ${bottoms}`).toBeLessThan(2);
    for (const b of [...boxes, (await row.getByText('algorithm', { exact: true }).boundingBox())!]) {
      expect(b.x).toBeGreaterThanOrEqual(region.x);
      expect(b.x + b.width).toBeLessThanOrEqual(region.x + region.width);
    }
    const error = (await row.getByRole('alert').boundingBox())!;
    expect(error.y).toBeGreaterThanOrEqual(Math.max(...bottoms));
    expect(error.x + error.width).toBeLessThanOrEqual(region.x + region.width);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  mkdirSync(SHOTS, { recursive: true });
  await row.screenshot({ path: join(SHOTS, 'classical-row.png') });
});

test('a classical run started behind a training run waits queued, then runs in the same queue', async ({
  page,
  workbench,
}) => {
  test.setTimeout(600_000);
  await page.goto(workbench.url);
  await createDemoStudy(page);
  const training = page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true });
  await training.click();
  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('n-images').fill('32');
  await page.getByLabel('Batch').fill('8');
  await page.getByRole('checkbox', { name: /Classical row/ }).check();
  const row = page.getByRole('region', { name: 'Classical arm' });
  await row.getByRole('textbox', { name: 'iterations' }).fill('3');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(training).toHaveAttribute('data-state', /queued|running/, { timeout: 60_000 });
  await row.getByRole('button', { name: /^Reconstruct dose .* baseline$/ }).click();
  const cell = row.locator('[data-classical="dose_1000-baseline-classical"]');
  // accepted while the job trains (no "already running"), and waiting its turn
  await expect(cell.locator('.badge')).toHaveText('queued');
  await expect(row.getByRole('alert')).toHaveCount(0);
  expect(await training.getAttribute('data-state')).toMatch(/queued|running/);
  // a second training run queued behind it: the panel lists all three in the order they run
  const next = page.getByRole('button', { name: 'dose 1000 dense gs2', exact: true });
  await next.click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(next).toHaveAttribute('data-state', 'queued', { timeout: 60_000 });
  const queue = page.getByRole('region', { name: 'Run queue' });
  await expect
    .poll(() => queue.locator('li.qitem').evaluateAll((li) => li.map((e) => e.getAttribute('data-testid'))))
    .toEqual(['queue-dose_1000-baseline-gs1', 'queue-dose_1000-baseline-classical', 'queue-dose_1000-dense-gs2']);
  const queued = queue.getByTestId('queue-dose_1000-baseline-classical');
  await expect(queued.locator('.qkind')).toHaveText('classical');
  await expect(queued.locator('.badge')).toHaveText('queued');
  await expect(queued).toContainText('3 iterations');
  await expect(queued.getByRole('button', { name: 'Cancel classical dose 1000 baseline' })).toBeEnabled();
  mkdirSync(SHOTS, { recursive: true });
  await queue.screenshot({ path: join(SHOTS, 'queue-classical.png') });
  await queue.getByRole('button', { name: 'Cancel dose 1000 dense gs2' }).click();
  await expect(next).toHaveAttribute('data-state', 'cancelled', { timeout: 60_000 });
  await expect(training).toHaveAttribute('data-state', 'done', { timeout: 400_000 });
  await expect(cell.locator('.badge')).toHaveText(/running|done/, { timeout: 60_000 });
  await expect(cell.locator('.badge')).toHaveText('done', { timeout: 120_000 });
  await expect(cell.locator('.cell-iterations')).toHaveText('3/3');
  // the panel keeps it, finished, with its outcome
  await expect(queued.locator('.badge')).toHaveText('done');
  await expect(queued).toContainText(/3\/3 · error \d\.\d\de-\d/);
});
