import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from './lock';
import { bundleFixture } from '../../../test/helpers/bundle-fixture';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'study-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function runChild(script: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code));
  });
}

describe('the manifest lock', () => {
  it('serialises read-modify-write cycles of two processes: no update is lost', async () => {
    const script = join(dir, 'lock-child.mjs');
    await bundleFixture('lock-child', script);
    const counter = join(dir, 'counter.json');
    writeFileSync(counter, '0');
    const codes = await Promise.all([runChild(script, [counter, '25']), runChild(script, [counter, '25'])]);
    expect(codes).toEqual([0, 0]);
    expect(JSON.parse(readFileSync(counter, 'utf8'))).toBe(50);
    expect(existsSync(`${counter}.lock`)).toBe(false);
  });

  it('takes over a lock left by a process that is gone', async () => {
    const lock = join(dir, 'm.lock');
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 999, hostname: hostname(), time: Date.now() }));
    expect(await withFileLock(lock, () => 'got it', 2000)).toBe('got it');
    expect(existsSync(lock)).toBe(false);
  });

  it('gives up with LOCKED while a live process holds it', async () => {
    const lock = join(dir, 'm.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, hostname: hostname(), time: Date.now() }));
    await expect(withFileLock(lock, () => 'never', 200)).rejects.toMatchObject({ code: 'LOCKED' });
    expect(existsSync(lock)).toBe(true);
  });

  it('releases the lock when the update throws', async () => {
    const lock = join(dir, 'm.lock');
    await expect(
      withFileLock(lock, () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(existsSync(lock)).toBe(false);
    expect(await withFileLock(lock, () => 1)).toBe(1);
  });
});
