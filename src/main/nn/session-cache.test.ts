import type * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createSessionCache } from './session-cache';

/** A stand-in session that records its release. */
function fakeCreate() {
  const made: { model: string; released: boolean }[] = [];
  const create = async (model: Uint8Array) => {
    const rec = { model: Buffer.from(model).toString(), released: false };
    made.push(rec);
    return {
      release: async () => {
        rec.released = true;
      },
    } as unknown as ort.InferenceSession;
  };
  return { made, create };
}

const bytes = (s: string) => new TextEncoder().encode(s);

describe('session cache', () => {
  it('gives the same session for the same graph and options, a new one for other options', async () => {
    const f = fakeCreate();
    const cache = createSessionCache(f.create);
    cache.beginJob();
    const a = await cache.get(bytes('train'), { provider: 'cpu', threads: 2 });
    cache.beginJob();
    expect(await cache.get(bytes('train'), { provider: 'cpu', threads: 2 })).toBe(a);
    expect(await cache.get(bytes('train'), { provider: 'cpu', threads: 1 })).not.toBe(a);
    expect(f.made.map((m) => m.model)).toEqual(['train', 'train']);
    expect(cache.stats()).toEqual({ created: 2, reused: 1, kept: 2, loaded: 0 });
  });

  it("a job with another graph releases the earlier jobs' sessions it does not use", async () => {
    const f = fakeCreate();
    const cache = createSessionCache(f.create);
    cache.beginJob();
    await cache.get(bytes('gs1 train'), { provider: 'cpu' });
    await cache.get(bytes('gs1 eval'), { provider: 'cpu' });
    await cache.get(bytes('shared preview'), { provider: 'cpu', threads: 1 });
    cache.beginJob();
    await cache.get(bytes('shared preview'), { provider: 'cpu', threads: 1 }); // used again: kept
    await cache.get(bytes('gs2 train'), { provider: 'cpu' }); // a miss: the gs1 graphs go
    expect(f.made.filter((m) => m.released).map((m) => m.model)).toEqual(['gs1 train', 'gs1 eval']);
    expect(cache.stats().kept).toBe(2);
    await cache.release();
    expect(f.made.every((m) => m.released)).toBe(true);
    expect(cache.stats().kept).toBe(0);
  });

  it('does not keep a session whose creation failed', async () => {
    let fail = true;
    const cache = createSessionCache(async () => {
      if (fail) throw new Error('bad graph');
      return { release: async () => {} } as unknown as ort.InferenceSession;
    });
    await expect(cache.get(bytes('g'), { provider: 'cpu' })).rejects.toThrow('bad graph');
    fail = false;
    await expect(cache.get(bytes('g'), { provider: 'cpu' })).resolves.toBeDefined();
    expect(cache.stats()).toEqual({ created: 1, reused: 0, kept: 1, loaded: 0 });
  });
});
