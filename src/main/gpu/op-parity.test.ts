import { describe, expect, it } from 'vitest';
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
});
