/**
 * Coalesces a burst of notifications into at most one flush per interval (default 50 ms,
 * i.e. ≤ 20 UI updates a second however many events arrive). The first notification after
 * a quiet period flushes on the next tick of the interval, never later.
 */
export interface Coalescer {
  /** Ask for a flush; cheap, call it on every event. */
  poke(): void;
  /** Flush now if something is pending (e.g. on unmount). */
  flushNow(): void;
  dispose(): void;
}

export function createCoalescer(flush: () => void, intervalMs = 50): Coalescer {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let pending = false;
  let lastFlush = Number.NEGATIVE_INFINITY;
  let disposed = false;

  const run = () => {
    timer = null;
    if (!pending || disposed) return;
    pending = false;
    lastFlush = Date.now();
    flush();
  };

  return {
    poke() {
      if (disposed) return;
      pending = true;
      if (timer !== null) return;
      const wait = Math.max(0, lastFlush + intervalMs - Date.now());
      timer = setTimeout(run, wait);
    },
    flushNow() {
      if (timer !== null) clearTimeout(timer);
      run();
    },
    dispose() {
      disposed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
