import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedGraphSha256, graphHashCacheDir, graphHashCacheKey } from './fingerprint';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'graph-hash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

describe('the training graph hash, kept per build', () => {
  it('is keyed by the bytes of the bundle the code runs from, and not kept when it runs from sources', () => {
    expect(graphHashCacheKey(join(dir, 'fingerprint.ts'))).toBeNull();
    const bundle = join(dir, 'out');
    mkdirSync(join(bundle, 'chunks'), { recursive: true });
    writeFileSync(join(bundle, 'cli.js'), 'cli 1');
    writeFileSync(join(bundle, 'trainer.js'), 'trainer 1');
    writeFileSync(join(bundle, 'cli.js.map'), 'map 1');
    const key = graphHashCacheKey(join(bundle, 'cli.js'));
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    // the same bundle from its other entry: the same key
    expect(graphHashCacheKey(join(bundle, 'trainer.js'))).toBe(key);
    // a source map is not code
    writeFileSync(join(bundle, 'cli.js.map'), 'map 2');
    expect(graphHashCacheKey(join(bundle, 'cli.js'))).toBe(key);
    // any bundle file, or a chunk, that changes gives a new key
    writeFileSync(join(bundle, 'trainer.js'), 'trainer 2');
    const key2 = graphHashCacheKey(join(bundle, 'cli.js'));
    expect(key2).not.toBe(key);
    writeFileSync(join(bundle, 'chunks', 'graph-abc.js'), 'chunk');
    expect(graphHashCacheKey(join(bundle, 'cli.js'))).not.toBe(key2);
  });

  it('is computed once per key, then read back; a malformed entry is computed again', () => {
    const cache = join(dir, 'cache');
    let calls = 0;
    const compute = () => {
      calls++;
      return H1;
    };
    expect(cachedGraphSha256('k1', cache, compute)).toBe(H1);
    expect(cachedGraphSha256('k1', cache, compute)).toBe(H1);
    expect(calls).toBe(1);
    expect(readFileSync(join(cache, 'k1.txt'), 'utf8')).toBe(`${H1}\n`);
    // another build: computed for itself
    expect(cachedGraphSha256('k2', cache, () => H2)).toBe(H2);
    writeFileSync(join(cache, 'k1.txt'), 'not a hash');
    expect(cachedGraphSha256('k1', cache, compute)).toBe(H1);
    expect(calls).toBe(2);
    expect(readFileSync(join(cache, 'k1.txt'), 'utf8')).toBe(`${H1}\n`);
    // no temp files left behind
    expect(readdirSync(cache).sort()).toEqual(['k1.txt', 'k2.txt']);
    // no key (sources) or no folder: always computed
    expect(cachedGraphSha256(null, cache, compute)).toBe(H1);
    expect(calls).toBe(3);
  });

  it('still answers when the cache folder cannot be written, and keeps only the newest entries', () => {
    const blocked = join(dir, 'file');
    writeFileSync(blocked, 'a file where the folder would go');
    expect(cachedGraphSha256('k', join(blocked, 'cache'), () => H1)).toBe(H1);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      expect(cachedGraphSha256('k', ro, () => H2)).toBe(H2);
      chmodSync(ro, 0o700);
    }
    const cache = join(dir, 'many');
    for (let i = 0; i < 20; i++) cachedGraphSha256(`k${i}`, cache, () => H1);
    expect(readdirSync(cache)).toHaveLength(16);
  });

  it("lives in the user's cache folder", () => {
    expect(graphHashCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/ptycho-study/graph-sha256');
    expect(graphHashCacheDir({})).toMatch(/\.cache[/\\]ptycho-study[/\\]graph-sha256$/);
  });
});
