/**
 * The Run panel's plan and its "Run on: this machine / Slurm" choice: each selected job says
 * whether it would train and why, and on Slurm the terminal line is the `slurm submit` command
 * with the options typed (the browser-mode server here has no Slurm; a dry run submits nothing).
 */
import { createPlaceholderLayout } from '../test/fixtures/fixture-layout';
import { expect, test } from './fixtures';

test('the plan says why a job will run; Run on Slurm shows and dry-runs the slurm submit command', async ({
  page,
  workbench,
}) => {
  createPlaceholderLayout(workbench.workspace);
  await page.goto(workbench.url);
  const cell = page.getByRole('button', { name: 'dose 1000 baseline gs1', exact: true });
  await expect(cell).toHaveAttribute('data-state', 'ready');
  await cell.click();
  await expect(page.getByRole('list', { name: 'Plan' })).toContainText(
    'dose_1000-baseline-gs1: will run: never trained',
  );

  await page.getByRole('combobox', { name: 'Run on' }).selectOption('slurm');
  await page.getByLabel('Partition').fill('gpu');
  await page.getByLabel('GPUs (gres)').fill('gpu:1');
  await page.getByLabel('At most at once').fill('2');
  await page.getByLabel('Retrain up-to-date jobs').check();
  await page.getByText('Same run from a terminal').click();
  const line = page.locator('details.cli code');
  await expect(line).toContainText('ptycho-study slurm submit --phase-c-root');
  await expect(line).toContainText('--dose 1000 --view baseline --force --partition gpu --gres gpu:1 --max-parallel 2');
  await expect(page.getByRole('list', { name: 'Plan' })).toContainText('will run: never trained');

  await page.screenshot({ path: 'test-results/screenshots/run-on-slurm.png' });
  await page.getByRole('switch', { name: 'Dry run' }).check();
  await expect(line).toContainText('--dry-run');
  await page.getByRole('button', { name: 'Submit to Slurm', exact: true }).click();
  await expect(page.getByRole('status').last()).toContainText('Dry run: 1 job(s) would be submitted to Slurm');
  await expect(cell).toHaveAttribute('data-state', 'ready');
});
