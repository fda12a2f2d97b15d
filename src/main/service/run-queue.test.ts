import { describe, expect, it } from 'vitest';
import { RunQueue } from './run-queue';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('RunQueue', () => {
  it('runs tasks one at a time in the order they were queued, whatever their kind', async () => {
    const q = new RunQueue();
    const log: string[] = [];
    const gates: (() => void)[] = [];
    const task = (name: string) => () =>
      new Promise<string>((resolve) => {
        log.push(`start ${name}`);
        gates.push(() => {
          log.push(`end ${name}`);
          resolve(name);
        });
      });
    const a = q.enqueue('a', 'training', task('a'), () => 'removed');
    const b = q.enqueue('b', 'classical', task('b'), () => 'removed');
    const c = q.enqueue('c', 'training', task('c'), () => 'removed');
    expect(a.started()).toBe(false); // never inside the caller's own tick
    await tick();
    expect(log).toEqual(['start a']);
    expect(q.snapshot()).toEqual({
      active: { id: 'a', kind: 'training' },
      waiting: [
        { id: 'b', kind: 'classical' },
        { id: 'c', kind: 'training' },
      ],
    });
    gates.shift()?.();
    expect(await a.done).toBe('a');
    await tick();
    expect(log).toEqual(['start a', 'end a', 'start b']);
    gates.shift()?.();
    await b.done;
    await tick();
    gates.shift()?.();
    expect(await c.done).toBe('c');
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('takes a waiting run out (it never starts, its done settles with the removed value) but not a started one', async () => {
    const q = new RunQueue();
    let release!: () => void;
    const a = q.enqueue(
      'a',
      'training',
      () => new Promise<string>((r) => (release = () => r('a'))),
      () => 'removed',
    );
    let bStarted = false;
    const b = q.enqueue(
      'b',
      'classical',
      async () => {
        bStarted = true;
        return 'b';
      },
      () => 'removed',
    );
    const c = q.enqueue(
      'c',
      'classical',
      async () => 'c',
      () => 'removed',
    );
    await tick();
    expect(a.remove()).toBe(false);
    expect(b.remove()).toBe(true);
    expect(b.remove()).toBe(false);
    expect(await b.done).toBe('removed');
    release();
    expect(await a.done).toBe('a');
    expect(await c.done).toBe('c');
    expect(bStarted).toBe(false);
    expect(b.started()).toBe(false);
    await tick();
    expect(q.snapshot()).toEqual({ active: null, waiting: [] });
  });

  it('a failing task rejects its own done and the next one still runs', async () => {
    const q = new RunQueue();
    const a = q.enqueue(
      'a',
      'training',
      async () => {
        throw new Error('boom');
      },
      () => undefined,
    );
    const b = q.enqueue(
      'b',
      'classical',
      async () => 'b',
      () => 'removed',
    );
    await expect(a.done).rejects.toThrow('boom');
    expect(await b.done).toBe('b');
  });
});
