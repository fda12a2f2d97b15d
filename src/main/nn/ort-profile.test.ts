import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileFiles, readProfile, summarizeProfile } from './ort-profile';

const node = (name: string, op: string, dur: number) => [
  { cat: 'Node', name: `${name}_fence_before`, dur: 0, args: { op_name: op } },
  { cat: 'Node', name: `${name}_kernel_time`, dur, args: { op_name: op } },
  { cat: 'Node', name: `${name}_fence_after`, dur: 0, args: { op_name: op } },
];

describe('onnxruntime profile summary', () => {
  const events = [
    { cat: 'Session', name: 'session_initialization', dur: 5000 },
    { cat: 'Session', name: 'model_run', dur: 1000 },
    ...node('conv1', 'Conv', 300),
    ...node('conv2', 'Conv', 200),
    ...node('relu1', 'Relu', 100),
    { cat: 'Api', name: 'Conv_3&Conv&Conv2DMatMul', dur: 250, args: { shapes: 'inputs[0] = {1}' } },
    { cat: 'Api', name: 'Relu_4&Relu&Relu', dur: 50 },
    { cat: 'Session', name: 'model_run', dur: 3000 },
    ...node('conv1', 'Conv', 500),
  ];

  it('divides by the runs, counts each kernel once and groups by operator', () => {
    const s = summarizeProfile(events);
    expect(s.runs).toBe(2);
    expect(s.run_us).toBe(2000);
    expect(s.by_category).toEqual({ Node: 550, Api: 150 });
    expect(s.top[0]).toMatchObject({ cat: 'Node', key: 'Conv', us_per_step: 500, count_per_step: 1.5 });
    expect(s.top[0].share).toBeCloseTo(1000 / 1100);
    const api = s.top.find((t) => t.cat === 'Api' && t.key === 'Conv/Conv2DMatMul');
    expect(api?.us_per_step).toBe(125);
    expect(s.top.find((t) => t.cat === 'Api' && t.key === 'Relu')?.share).toBeCloseTo(50 / 300);
    expect(s.top.some((t) => t.key.includes('fence'))).toBe(false);
  });

  it('finds the files under a prefix and names a truncated one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
    writeFileSync(join(dir, 'gs1_b64_2026-12-04_10-00-00.json'), JSON.stringify(events));
    writeFileSync(join(dir, 'gs2_b64_2026-12-04_10-00-00.json'), '[{"cat":"Session"');
    writeFileSync(join(dir, 'gs1_b64.txt'), 'x');
    const files = profileFiles(join(dir, 'gs1_b64'));
    expect(files).toHaveLength(1);
    expect(summarizeProfile(readProfile(files[0])).runs).toBe(2);
    expect(() => readProfile(join(dir, 'gs2_b64_2026-12-04_10-00-00.json'))).toThrow(/gs2_b64.*not a complete/);
  });
});
