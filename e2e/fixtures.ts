/**
 * Browser-mode fixture: starts `ptycho-study serve --port 0` on a fresh workspace (as a user
 * would, through bin/) and hands the tests its Workbench URL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';

export interface Workbench {
  url: string;
  origin: string;
  workspace: string;
}

const repoRoot = join(import.meta.dirname, '..');

export const test = base.extend<{ workbench: Workbench }>({
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
