import { describe, expect, it } from 'vitest';
import { probeProviders } from '../nn/providers';
import { OP_CASES } from './op-cases';
import { opParity } from './op-parity';

describe('accelerator parity harness', () => {
  it('CPU against itself agrees exactly on every VJP case (the harness compares the right tensors)', async () => {
    const rows = await opParity('cpu');
    expect(rows.map((r) => r.op)).toEqual(OP_CASES.map((c) => c.name));
    for (const r of rows) {
      expect(r.error, r.op).toBeUndefined();
      expect(r.maxAbsError, r.op).toBe(0);
      expect(r.ok).toBe(true);
    }
  });

  it('an unavailable accelerator is reported per op with the provider error, not as a pass', async () => {
    const rows = await opParity('cuda');
    expect(rows.length).toBe(OP_CASES.length);
    for (const r of rows) {
      expect(r.ok).toBe(false);
      expect(r.error ?? '').toMatch(/cuda|CUDA|provider/);
    }
  });

  it('WebGPU agrees with the CPU provider on every case, MaxPool and its gradient included', async (ctx) => {
    const [webgpu] = await probeProviders({ providers: ['webgpu'] });
    if (process.env.PTYCHO_REQUIRE_WEBGPU === '1') expect(webgpu.available, webgpu.detail).toBe(true);
    if (!webgpu.available) ctx.skip(`no WebGPU adapter here: ${webgpu.detail}`);
    const rows = await opParity('webgpu');
    for (const r of rows) expect(r.error ?? `max rel ${r.maxRelError}`, r.op).toMatch(/^max rel/);
    expect(rows.filter((r) => !r.ok).map((r) => r.op)).toEqual([]);
  }, 180_000);
});
