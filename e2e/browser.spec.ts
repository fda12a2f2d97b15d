import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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

test('the page opens its event stream under its own CSP and Origin checks', async ({ page, workbench }) => {
  const cspErrors: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  const socket = page.waitForEvent('websocket');
  await page.goto(workbench.url);
  await expect(page.getByRole('heading', { name: 'PtychoPINN study workbench' })).toBeVisible();
  const ws = await socket;
  expect(new URL(ws.url()).host).toBe(new URL(workbench.origin).host);
  const state = await page.evaluate(
    (origin) =>
      new Promise<string>((resolve) => {
        const s = new WebSocket(`${origin.replace(/^http/, 'ws')}/ws`);
        s.onopen = () => {
          s.close();
          resolve('open');
        };
        s.onerror = () => resolve('error');
      }),
    workbench.origin,
  );
  expect(state).toBe('open');
  expect(ws.isClosed()).toBe(false);
  expect(cspErrors).toEqual([]);
});

test('a page served from another 127.0.0.1 port cannot use the session cookie', async ({ page, workbench }) => {
  // The user opened the workbench, so the browser holds its cookie (cookies ignore ports).
  await page.goto(workbench.url);
  await expect(page.getByRole('heading', { name: 'PtychoPINN study workbench' })).toBeVisible();
  const other = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>another local app</title>');
  });
  await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok));
  try {
    await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`);
    const attempt = await page.evaluate(async (target) => {
      const body = JSON.stringify({ jobIds: ['dose_1000-baseline-gs1'], dryRun: true, knobs: {} });
      // A "simple" request needs no CORS preflight, so the browser sends it with the cookie.
      const post = await fetch(`${target}/api/runJobs`, {
        method: 'POST',
        mode: 'no-cors',
        credentials: 'include',
        headers: { 'content-type': 'text/plain' },
        body,
      }).then(
        () => 'sent',
        (e: unknown) => String(e),
      );
      const ws = await new Promise<string>((resolve) => {
        const s = new WebSocket(`${target.replace(/^http/, 'ws')}/ws`);
        s.onopen = () => resolve('open');
        s.onerror = () => resolve('refused');
      });
      return { post, ws };
    }, workbench.origin);
    expect(attempt.ws).toBe('refused');
    // The post's answer is opaque to the page; what matters is that nothing ran.
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(join(workbench.workspace, 'artifacts', 'training_manifest.json'))).toBe(false);
  } finally {
    await new Promise<void>((ok) => other.close(() => ok()));
  }
});
