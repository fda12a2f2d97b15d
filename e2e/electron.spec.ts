/**
 * The same check as browser mode, inside the Electron window. Runs only where Electron's
 * binary exists (it is downloaded on first use and needs network access); elsewhere the test
 * is reported as skipped with the reason.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
// @ts-expect-error plain ESM helper shared with scripts/start.mjs
import { findElectronBinary } from '../scripts/electron-binary.mjs';

const found = findElectronBinary() as { path: string | null; reason?: string };
const ortVersion = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;

test('Electron window shows the onnxruntime-node version from the main process', async () => {
  if (!found.path) {
    console.log(`[electron e2e] skipped: ${found.reason}`);
    test.skip(true, `Electron binary unavailable: ${found.reason}`);
    return;
  }
  const app = await electron.launch({ executablePath: found.path, args: [join(import.meta.dirname, '..')] });
  try {
    const page = await app.firstWindow();
    await expect(page.getByTestId('ort-version')).toHaveText(ortVersion);
    // The page must have no Node: context isolation + sandbox leave `require` undefined.
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
  } finally {
    await app.close();
  }
});
