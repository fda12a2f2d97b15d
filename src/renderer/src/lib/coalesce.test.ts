import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCoalescer } from './coalesce';

describe('event coalescing', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('turns 180 events a second into at most 20 flushes', () => {
    const flush = vi.fn();
    const c = createCoalescer(flush, 50);
    // nine jobs at 20 events/s (and more) for exactly one second: an event every 5 ms
    for (let i = 0; i < 200; i++) {
      vi.advanceTimersByTime(5);
      c.poke();
    }
    // one second of events: at most one flush per 50 ms window
    expect(flush.mock.calls.length).toBeGreaterThan(10);
    expect(flush.mock.calls.length).toBeLessThanOrEqual(20);
    vi.advanceTimersByTime(100);
    expect(flush.mock.calls.length).toBeLessThanOrEqual(21);
  });

  it('flushes a lone event promptly and never drops the last one', () => {
    const flush = vi.fn();
    const c = createCoalescer(flush, 50);
    c.poke();
    vi.advanceTimersByTime(0);
    expect(flush).toHaveBeenCalledTimes(1);
    c.poke();
    c.poke();
    expect(flush).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(50);
    expect(flush).toHaveBeenCalledTimes(2);
  });

  it('does nothing after dispose', () => {
    const flush = vi.fn();
    const c = createCoalescer(flush, 50);
    c.poke();
    c.dispose();
    vi.advanceTimersByTime(100);
    expect(flush).not.toHaveBeenCalled();
  });
});
