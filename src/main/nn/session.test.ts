/** ORT session options the engine sets for every session. */
import { describe, expect, it } from 'vitest';
import { sessionOptions } from './session';

describe('sessionOptions', () => {
  it('lets idle intra-op threads block instead of spin, and keeps the CPU-fallback switch beside it', () => {
    const cpu = sessionOptions({ provider: 'cpu', threads: 2 });
    expect(cpu.intraOpNumThreads).toBe(2);
    expect(cpu.graphOptimizationLevel).toBe('all');
    expect((cpu.extra as { session: Record<string, string> }).session).toEqual({ 'intra_op.allow_spinning': '0' });
    const gpu = sessionOptions({ provider: 'webgpu', disableCpuFallback: true });
    expect((gpu.extra as { session: Record<string, string> }).session).toEqual({
      'intra_op.allow_spinning': '0',
      disable_cpu_ep_fallback: '1',
    });
  });
});
