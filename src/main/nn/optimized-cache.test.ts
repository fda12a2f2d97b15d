import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph } from './graph';
import { add, mul } from './ops-basic';
import { createOptimizedCache, optimizedCacheDir } from './optimized-cache';

function tinyModel(k: number): Uint8Array {
  const g = new Graph('float32');
  const x = g.input('x', [2, 2]);
  return g.toModel({ outputs: { y: add(mul(x, k), 1) }, name: 'tiny' });
}

async function runY(session: Awaited<ReturnType<ReturnType<typeof createOptimizedCache>['create']>>) {
  const out = await session.run({ x: new OrtTensor('float32', Float32Array.of(1, 2, 3, 4), [2, 2]) });
  return Array.from(out.y.data as Float32Array);
}

describe('optimised graphs on disk', () => {
  it('the second process loads the graph the first optimised; a broken file is optimised again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-opt-'));
    const first = createOptimizedCache(dir);
    const a = await first.create(tinyModel(3), { provider: 'cpu', threads: 1 });
    expect(await runY(a)).toEqual([4, 7, 10, 13]);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{64}\.ort\.onnx$/);

    const second = createOptimizedCache(dir);
    expect(await runY(await second.create(tinyModel(3), { provider: 'cpu', threads: 1 }))).toEqual([4, 7, 10, 13]);
    expect(second.loaded()).toBe(1);
    // other options or another graph: another file
    await second.create(tinyModel(5), { provider: 'cpu', threads: 1 });
    await second.create(tinyModel(3), { provider: 'cpu', threads: 2 });
    expect(second.loaded()).toBe(1);
    expect(readdirSync(dir)).toHaveLength(3);

    writeFileSync(join(dir, files[0]), 'not a model');
    const third = createOptimizedCache(dir, { keep: 2 });
    expect(await runY(await third.create(tinyModel(3), { provider: 'cpu', threads: 1 }))).toEqual([4, 7, 10, 13]);
    expect(third.loaded()).toBe(0);
    // rewritten whole, and only the two most recent files kept
    expect(readdirSync(dir)).toHaveLength(2);
    expect(readdirSync(dir)).toContain(files[0]);
    expect(await runY(await createOptimizedCache(dir).create(tinyModel(3), { provider: 'cpu', threads: 1 }))).toEqual([
      4, 7, 10, 13,
    ]);
  });

  it("a killed writer's temporary file is removed once stale; a fresh one (another writer's) is kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-opt-'));
    const stale = join(dir, 'dead.123.abcd.tmp');
    const fresh = join(dir, 'live.456.ef01.tmp');
    writeFileSync(stale, 'half a model');
    writeFileSync(fresh, 'being written');
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(stale, old, old);
    await createOptimizedCache(dir).create(tinyModel(3), { provider: 'cpu', threads: 1 });
    const left = readdirSync(dir);
    expect(left).not.toContain('dead.123.abcd.tmp');
    expect(left).toContain('live.456.ef01.tmp');
  });

  it('is off with PTYCHO_ORT_CACHE=0 and follows PTYCHO_ORT_CACHE_DIR or XDG_CACHE_HOME', () => {
    expect(optimizedCacheDir({ PTYCHO_ORT_CACHE: '0' })).toBeNull();
    expect(optimizedCacheDir({ PTYCHO_ORT_CACHE_DIR: '/x/y' })).toBe('/x/y');
    expect(optimizedCacheDir({ XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'ptycho-study', 'ort-optimized'));
  });
});
