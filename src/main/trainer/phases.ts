/**
 * A job's start-up and teardown, phase by phase: each `mark` closes the phase that ran since
 * the previous one. The worker starts the clock at its process start, so the first phases
 * are the worker's own boot and its wait for the job; `line()` is the `phase timings` line a
 * job writes to its log when it ends (docs/benchmarks.md § study reads it).
 */
export interface PhaseClock {
  /** Close the phase under way (now, or at `at`), naming it; repeated names add up (e.g. one per step). */
  mark(name: string, at?: number): void;
  /** Phases in order of their first mark, milliseconds each. */
  phases(): { name: string; ms: number }[];
  /** `name ms, name ms, …, total ms`. */
  line(): string;
}

export function createPhaseClock(start = performance.now(), now: () => number = () => performance.now()): PhaseClock {
  const ms = new Map<string, number>();
  let last = start;
  return {
    mark(name, at) {
      const t = at ?? now();
      ms.set(name, (ms.get(name) ?? 0) + (t - last));
      last = t;
    },
    phases: () => [...ms].map(([name, v]) => ({ name, ms: v })),
    line() {
      const parts = [...ms].map(([name, v]) => `${name} ${Math.round(v)}`);
      return `${parts.join(', ')}; total ${Math.round(last - start)} ms`;
    },
  };
}
