import { describe, expect, it } from 'vitest';
import { countOutcomes, createCancelTracker, runNotice } from './run-notice';

describe('status-line notices for runs and cancels', () => {
  it('cancelling one job of four reads as 3 done, 1 cancelled, not "run cancelled: 4 jobs"', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const ev = {
      dryRun: false,
      jobIds: ids,
      exitCode: 130,
      status: 'cancelled' as const,
      outcomes: ids.map((jobId) => ({ jobId, status: jobId === 'b' ? ('cancelled' as const) : ('done' as const) })),
    };
    expect(runNotice(ev)).toBe('Run finished: 3 done, 1 cancelled (exit code 130).');
  });

  it('reads a dry run, a clean run and a run with a failure plainly', () => {
    const base = { jobIds: ['a', 'b'], exitCode: 0, status: 'done' as const };
    expect(runNotice({ ...base, dryRun: true, outcomes: [] })).toMatch(/^Dry run finished: 2 job\(s\) planned/);
    expect(
      runNotice({
        ...base,
        dryRun: false,
        outcomes: [
          { jobId: 'a', status: 'done' },
          { jobId: 'b', status: 'done' },
        ],
      }),
    ).toBe('Run finished: 2 done.');
    expect(countOutcomes(['failed', 'done', 'diverged', 'done'])).toBe('2 done, 1 failed, 1 diverged');
  });

  it('"Cancelling …" gives way once every job it named has stopped, saying how each ended', () => {
    const t = createCancelTracker();
    expect(t.start(['a', 'b'])).toBe('Cancelling a, b…');
    expect(t.settle('a', 'running')).toBeNull();
    expect(t.settle('c', 'cancelled')).toBeNull();
    expect(t.settle('a', 'cancelled')).toBeNull();
    expect(t.pending()).toEqual(['b']);
    expect(t.settle('b', 'done')).toBe('Cancelled a. b done before the cancel took effect.');
    expect(t.pending()).toEqual([]);
    expect(t.settle('b', 'cancelled')).toBeNull();
    // cell data states are not an end
    t.start(['x']);
    expect(t.settle('x', 'ready')).toBeNull();
    expect(t.settle('x', 'cancelled')).toBe('Cancelled x.');
  });
});
