/**
 * The workbench in browser mode, driven as a scientist would: by accessible names (each
 * job cell is a button named like `dose 1000 baseline gs1`, the `Dry run` switch, `Run`).
 * Screenshots of each step go to test-results/screenshots/.
 */
import { expect, test } from './fixtures';

const SHOTS = 'test-results/screenshots';

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
