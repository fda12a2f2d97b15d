import { afterEach, describe, expect, it } from 'vitest';
import { decideSpin, parseProcStat, resetSpinDecision, spinDecision } from './spin-policy';

describe('spin policy', () => {
  afterEach(() => {
    delete process.env.PTYCHO_ORT_SPIN;
    resetSpinDecision();
  });

  it('reads busy, total and stolen ticks from /proc/stat', () => {
    const text = 'cpu  100 5 20 800 10 1 2 30 0 0\ncpu0 50 2 10 400 5 0 1 15 0 0\nintr 1\n';
    expect(parseProcStat(text)).toEqual({ busy: 100 + 5 + 20 + 1 + 2, total: 128 + 800 + 10 + 30, steal: 30 });
    expect(parseProcStat('cpu0 1 2 3 4\n')).toBeNull();
    expect(parseProcStat('cpu  1 x 3 4\n')).toBeNull();
  });

  it('spins with a spare core, or on a machine that is otherwise idle; blocks when another process is busy', () => {
    expect(decideSpin(2, 8, null).spin).toBe(true);
    expect(decideSpin(2, 2, 0.1)).toEqual({ spin: true, reason: '1.9 of 2 cores free for 2 threads' });
    expect(decideSpin(2, 2, 0.9)).toEqual({ spin: false, reason: '1.1 of 2 cores free for 2 threads' });
    expect(decideSpin(2, 3, 1.2).spin).toBe(true);
    expect(decideSpin(2, 3, 1.6).spin).toBe(false);
    expect(decideSpin(1, 2, 0).spin).toBe(false);
    expect(decideSpin(2, 2, null).spin).toBe(true);
  });

  it('obeys PTYCHO_ORT_SPIN and keeps one decision per process', async () => {
    process.env.PTYCHO_ORT_SPIN = '0';
    expect(await spinDecision(2)).toEqual({ spin: false, reason: 'PTYCHO_ORT_SPIN=0' });
    process.env.PTYCHO_ORT_SPIN = '1';
    expect((await spinDecision(2)).spin).toBe(true);
    delete process.env.PTYCHO_ORT_SPIN;
    const first = spinDecision(2);
    expect(spinDecision(2)).toBe(first);
    const d = await first;
    expect(typeof d.spin).toBe('boolean');
    expect(d.reason).toMatch(/cores|unknown/);
  });
});
