/**
 * The manifest lock on a shared filesystem: writers on several hosts (separate processes,
 * each naming its own host) never lose an update, and a lock is judged stale without a pid
 * check across hosts or agreeing clocks.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withFileLock } from './lock';
import { lockPath, manifestPath } from './manifest-store';
import { bundleFixture } from '../../../test/helpers/bundle-fixture';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lock-hosts-'));
});
afterEach(() => {
  delete process.env.PTYCHO_LOCK_STALE_MS;
  rmSync(dir, { recursive: true, force: true });
});

function minimalManifest(root: string) {
  return {
    schema_version: 1,
    timestamp: new Date().toISOString(),
    phase_c_root: join(root, 'c'),
    phase_d_root: join(root, 'd'),
    artifact_root: root,
    filters: { dose: null, view: null, gridsize: null },
    dry_run: false,
    knobs: {},
    design: { name: 'x', neighbor_count: 7, doses: [1000] },
    skipped_views: [],
    skipped_count: 0,
    skip_summary_path: 'skip_summary.json',
    jobs: [],
    runs: [],
    writes: [],
  };
}

function runChild(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: 'ignore', env: { ...process.env, ...env } });
    child.on('exit', (code) => resolve(code));
  });
}

/** A lock as another host writes it: its pid means nothing here, its clock may be off. */
function foreignLock(path: string, clockOffsetMs: number): void {
  writeFileSync(
    path,
    JSON.stringify({ pid: 1, hostname: 'other-node', time: Date.now() + clockOffsetMs, nonce: 'f00dfeed' }),
  );
}

describe('the manifest lock across hosts', () => {
  it('four writers on four hosts, 20 updates each, lose nothing and leave no lock', async () => {
    const script = join(dir, 'writer.mjs');
    await bundleFixture('manifest-writer', script);
    const root = join(dir, 'artifacts');
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    writeFileSync(manifestPath(root), JSON.stringify(minimalManifest(root)));
    const hosts = ['node-a', 'node-b', 'node-c', 'node-d'];
    const codes = await Promise.all(hosts.map((h) => runChild(script, [root, '20', h], { PTYCHO_HOSTNAME: h })));
    expect(codes).toEqual([0, 0, 0, 0]);
    const writes = JSON.parse(readFileSync(manifestPath(root), 'utf8')).writes as string[];
    expect(writes).toHaveLength(80);
    expect(new Set(writes).size).toBe(80);
    for (const h of hosts)
      expect(writes.filter((w) => w.startsWith(`${h}-`)).map((w) => w.slice(h.length + 1))).toEqual(
        Array.from({ length: 20 }, (_, i) => String(i)),
      );
    expect(existsSync(lockPath(root))).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('.broken-'))).toEqual([]);
  }, 60_000);

  it("another host's live lock is not taken because its clock lags or its pid is not alive here", async () => {
    const lock = join(dir, 'm.lock');
    foreignLock(lock, -3_600_000);
    process.env.PTYCHO_LOCK_STALE_MS = '5000';
    await expect(withFileLock(lock, () => 'stolen', 400)).rejects.toMatchObject({
      code: 'LOCKED',
      details: { found: 'pid 1 on other-node' },
    });
    expect(existsSync(lock)).toBe(true);
  });

  it('a lock a crashed host left (its clock an hour ahead) is taken over once seen unchanged for the stale window', async () => {
    const lock = join(dir, 'm.lock');
    foreignLock(lock, 3_600_000);
    process.env.PTYCHO_LOCK_STALE_MS = '300';
    const t0 = performance.now();
    expect(await withFileLock(lock, () => 'got it', 5_000)).toBe('got it');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
    expect(readdirSync(dir)).toEqual([]);
  });
});
