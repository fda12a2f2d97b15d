/**
 * The Run panel's knobs are checked as they are typed, against the knob table: a value the
 * table refuses names the valid range beside the field and disables Run, so a mistyped
 * knob can never start a run with some other value.
 */
import { createDemoStudy, expect, test } from './fixtures';

test('an invalid knob names the valid range and blocks Run until it is fixed', async ({ page, workbench }) => {
  test.setTimeout(240_000);
  await page.goto(workbench.url);
  await createDemoStudy(page, 180_000);
  await page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true }).click();
  const run = page.getByRole('button', { name: 'Run', exact: true });
  await expect(run).toBeEnabled();

  const epochs = page.getByRole('textbox', { name: 'Epochs' });
  // blank means the default, which the field shows
  await expect(epochs).toHaveAttribute('placeholder', '50');
  for (const bad of ['0', 'ten', '2.5', '100001']) {
    await epochs.fill(bad);
    await expect(epochs).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByRole('alert').filter({ hasText: 'Epochs' })).toHaveText(
      `Epochs: expected an integer in [1, 100000], got '${bad}'`,
    );
    await expect(run).toBeDisabled();
  }
  // a valid value typed another way stays as typed
  await epochs.fill('1e1');
  await expect(page.locator('details.cli code')).toContainText('--max-epochs 10');
  await expect(epochs).toHaveValue('1e1');
  await epochs.fill('3');
  await expect(epochs).toHaveAttribute('aria-invalid', 'false');
  await expect(page.getByRole('alert').filter({ hasText: 'Epochs' })).toHaveCount(0);
  await expect(run).toBeEnabled();
  await expect(page.locator('details.cli code')).toContainText('--max-epochs 3');

  // every typed knob of the table is checked the same way, e.g. the early-stopping patience
  const patience = page.getByRole('textbox', { name: 'Patience' });
  await patience.fill('-1');
  await expect(page.getByRole('alert').filter({ hasText: 'Patience' })).toContainText('[0, 10000]');
  await expect(run).toBeDisabled();
  await page.getByRole('region', { name: 'Run', exact: true }).screenshot({
    path: 'docs/screenshots/monitoring-knob-invalid.png',
  });
  await patience.fill('');
  await expect(run).toBeEnabled();
  await patience.fill('5');
  await expect(page.locator('details.cli code')).toContainText('--early-stopping-patience 5');
});
