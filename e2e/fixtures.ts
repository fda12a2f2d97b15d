/**
 * Browser-mode fixture: starts `ptycho-study serve --port 0` on a fresh workspace (as a user
 * would, through bin/) and hands the tests its Workbench URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';

export interface Workbench {
  url: string;
  origin: string;
  workspace: string;
}

const repoRoot = join(import.meta.dirname, '..');

export const test = base.extend<{ workbench: Workbench }>({
  // The page's console, errors and API calls, printed when a test fails: what the page did
  // and did not ask the engine for.
  page: async ({ page }, use, testInfo) => {
    const lines: string[] = [];
    const at = () => new Date().toISOString().slice(11, 23);
    page.on('console', (m) => lines.push(`${at()} console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => lines.push(`${at()} page error: ${e.message}`));
    page.on('request', (r) => {
      if (r.url().includes('/api/')) lines.push(`${at()} → ${r.url().split('/api/')[1]}`);
    });
    page.on('requestfailed', (r) => lines.push(`${at()} failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('websocket', (ws) => {
      lines.push(`${at()} websocket open`);
      ws.on('close', () => lines.push(`${at()} websocket closed`));
    });
    await use(page);
    if (testInfo.status !== testInfo.expectedStatus)
      console.log(`page log of "${testInfo.title}":\n${lines.join('\n')}`);
  },
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixture dependencies from this destructuring
  workbench: async ({}, use) => {
    const workspace = mkdtempSync(join(tmpdir(), 'ptycho-e2e-'));
    const child: ChildProcess = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'ptycho-study.mjs'), 'serve', '--port', '0', '--workspace', workspace],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${out} ${err}`)), 30_000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Workbench: (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    // A server that dies mid-test shows in the page only as "Lost the connection": say why here.
    let stopping = false;
    child.on('exit', (code, signal) => {
      if (!stopping)
        console.error(`ptycho-study serve exited (${signal ?? code}) during the test:\n${err.slice(-4000)}`);
    });
    await use({ url, origin: new URL(url).origin, workspace });
    stopping = true;
    child.kill('SIGTERM');
    rmSync(workspace, { recursive: true, force: true });
  },
});

export { expect } from '@playwright/test';

/**
 * Creates the demo study from an empty workspace and waits for its nine ready jobs. The click
 * waits for the page's first load (nine "data missing" cells): until then the button is
 * disabled now and again while the roots open, and a click that lands then does nothing.
 */
export async function createDemoStudy(page: Page, timeout = 120_000): Promise<void> {
  await expect(page.locator('.matrix [data-state="missing"]')).toHaveCount(9, { timeout: 30_000 });
  await page.getByRole('button', { name: 'Create demo study' }).click();
  await expect(page.locator('.matrix [data-state="ready"]')).toHaveCount(9, { timeout });
}
