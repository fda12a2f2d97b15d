/** ORT session options the engine sets for every session. */
import { describe, expect, it } from 'vitest';
import { sessionOptions, webgpuOptions } from './session';

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

describe('PTYCHO_WEBGPU_OPTIONS', () => {
  it('passes known WebGPU provider options through and refuses anything else by name', () => {
    expect(webgpuOptions(undefined)).toEqual({});
    expect(webgpuOptions('{"preferredLayout":"NCHW","validationMode":"wgpuOnly"}')).toEqual({
      preferredLayout: 'NCHW',
      validationMode: 'wgpuOnly',
    });
    expect(() => webgpuOptions('{"preferedLayout":"NCHW"}')).toThrow(/unknown key 'preferedLayout'/);
    expect(() => webgpuOptions('{"preferredLayout":"nchw"}')).toThrow(/preferredLayout: expected one of NCHW, NHWC/);
    expect(() => webgpuOptions('NCHW')).toThrow(/expected a JSON object/);
  });

  it('reaches the WebGPU session options and no other provider', () => {
    const before = process.env.PTYCHO_WEBGPU_OPTIONS;
    process.env.PTYCHO_WEBGPU_OPTIONS = '{"preferredLayout":"NHWC"}';
    try {
      expect(sessionOptions({ provider: 'webgpu' }).executionProviders).toEqual([
        { name: 'webgpu', preferredLayout: 'NHWC' },
      ]);
      expect(sessionOptions({ provider: 'cpu' }).executionProviders).toEqual(['cpu']);
    } finally {
      if (before === undefined) delete process.env.PTYCHO_WEBGPU_OPTIONS;
      else process.env.PTYCHO_WEBGPU_OPTIONS = before;
    }
  });
});
