/**
 * The classical row in browser mode: on the demo study, show it, reconstruct one (dose, view)
 * with a few iterations, and see its state, error and live curve land in the row.
 */
import { expect, test } from './fixtures';

test('the Classical row reconstructs the selected (dose, view) and shows its error curve', async ({
  page,
  workbench,
}) => {
  test.setTimeout(300_000);
  await page.goto(workbench.url);
  await page.getByRole('button', { name: 'Create demo study' }).click();
  await expect(page.locator('.matrix [data-state="ready"]')).toHaveCount(9, { timeout: 120_000 });
  await page.getByRole('button', { name: 'dose 100000 dense gs2', exact: true }).click();
  await page.getByRole('checkbox', { name: /Classical row/ }).check();
  const row = page.getByRole('region', { name: 'Classical arm' });
  await row.getByRole('spinbutton', { name: 'iterations' }).fill('3');
  await row.getByRole('button', { name: /^Reconstruct dose .* dense$/ }).click();
  const cell = row.locator('[data-classical="dose_100000-dense-classical"]');
  await expect(cell.locator('.badge')).toHaveText('done', { timeout: 120_000 });
  await expect(cell).toContainText(/3\/3 · error \d\.\d\de-\d · phase skill/);
  await expect(
    row.getByRole('img', { name: 'dose_100000-dense-classical data-fit error per iteration' }),
  ).toBeVisible();
  await expect(row.locator('[data-classical="dose_1000-sparse-classical"] .badge')).toHaveText('not run');
  await page.screenshot({ path: 'test-results/screenshots/classical-row.png' });
});
