import { createRequire } from 'node:module';
import { expect, test } from './fixtures';

const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;

test('browser mode loads and shows the onnxruntime-node version from the main side', async ({ page, workbench }) => {
  await page.goto(workbench.url);
  await expect(page.getByRole('heading', { name: 'PtychoPINN study workbench' })).toBeVisible();
  await expect(page.getByTestId('ort-version')).toHaveText(ortVersion);
  await expect(page.getByText(/cpu\s+available/)).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/browser-info.png' });
});

test('without the token the page is refused', async ({ page, workbench }) => {
  const res = await page.goto(`${workbench.origin}/`);
  expect(res?.status()).toBe(401);
});
