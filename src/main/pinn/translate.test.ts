import { describe, expect, it } from 'vitest';
import { canvasSize, NORM_EPS, reassembleAndExtract, reassemblyMatrices, shiftMatrix } from './translate';

function apply1d(S: Float64Array, L: number, v: number[]): number[] {
  return Array.from({ length: L }, (_, i) => v.reduce((acc, x, j) => acc + S[i * L + j] * x, 0));
}

describe('shift matrices', () => {
  it('an integer shift moves content by +t with zero fill', () => {
    const v = [1, 2, 3, 4, 5, 6];
    expect(apply1d(shiftMatrix(6, 2), 6, v)).toEqual([0, 0, 1, 2, 3, 4]);
    expect(apply1d(shiftMatrix(6, -1), 6, v)).toEqual([2, 3, 4, 5, 6, 0]);
  });
  it('a sub-pixel shift of a ramp is the ramp moved (bilinear is exact on linear data)', () => {
    const L = 10;
    const v = Array.from({ length: L }, (_, i) => 3 + 0.5 * i);
    const out = apply1d(shiftMatrix(L, 1.3), L, v);
    for (let i = 2; i < L; i++) expect(out[i]).toBeCloseTo(3 + 0.5 * (i - 1.3), 12);
  });
});

/** Patch of side N centred at (cx, cy) of a function object(x, y), kept on the central N/2 square. */
function cut(obj: (x: number, y: number) => number, cx: number, cy: number, N: number): Float64Array {
  const out = new Float64Array(N * N);
  for (let r = N / 4; r < N - N / 4; r++)
    for (let s = N / 4; s < N - N / 4; s++) out[r * N + s] = obj(cx - N / 2 + s, cy - N / 2 + r);
  return out;
}

describe('gridsize-2 reassembly', () => {
  const N = 32;
  const M = canvasSize(N, 2);
  const p = (M - N) / 2;

  function run(objs: ((x: number, y: number) => number)[], centres: [number, number][], offs: [number, number][][]) {
    const B = objs.length;
    const C = 4;
    const offsets = new Float64Array(B * C * 2);
    const patches = new Float64Array(B * C * N * N);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        const [dx, dy] = offs[b][c];
        offsets[(b * C + c) * 2] = dx;
        offsets[(b * C + c) * 2 + 1] = dy;
        patches.set(cut(objs[b], centres[b][0] + dx, centres[b][1] + dy, N), (b * C + c) * N * N);
      }
    const mats = reassemblyMatrices(offsets, B, C, N, M);
    return { mats, patches, ...reassembleAndExtract(patches, mats) };
  }

  it('patches cut from one object reassemble to that object in the covered region (integer offsets)', () => {
    const obj = (x: number, y: number) => Math.sin(0.37 * x) + Math.cos(0.23 * y) + 0.01 * x * y;
    const offs: [number, number][] = [
      [-3, -4],
      [3, -4],
      [-3, 4],
      [3, 4],
    ];
    const { canvas, mats } = run([obj], [[100, 80]], [offs]);
    let covered = 0;
    for (let r = 0; r < M; r++)
      for (let s = 0; s < M; s++) {
        const inv = mats.invNorm[r * M + s];
        const count = 1 / inv - NORM_EPS;
        if (count < 0.5) continue;
        covered++;
        const want = obj(100 - M / 2 + s, 80 - M / 2 + r) * (count / (count + NORM_EPS));
        expect(canvas[r * M + s]).toBeCloseTo(want, 5);
      }
    // The union of four 16×16 central squares shifted by ±3/±4 px covers 22×24 pixels.
    expect(covered).toBe(22 * 24);
  });

  it('sub-pixel offsets reassemble a linear object exactly where coverage is whole', () => {
    const obj = (x: number, y: number) => 2 + 0.05 * x - 0.03 * y;
    const offs: [number, number][] = [
      [-2.6, -3.1],
      [2.9, -2.4],
      [-3.3, 2.2],
      [3.0, 3.3],
    ];
    const { canvas, mats } = run([obj], [[60, 70]], [offs]);
    const support = (L: Float32Array, c: number, row: number) => {
      let acc = 0;
      for (let j = N / 4; j < N - N / 4; j++) acc += L[c * M * N + row * N + j];
      return acc;
    };
    let checked = 0;
    for (let r = 0; r < M; r++)
      for (let s = 0; s < M; s++) {
        // Whole coverage: every patch's bilinear footprint lies fully inside or outside its support.
        const parts = [0, 1, 2, 3].map((c) => support(mats.ly, c, r) * support(mats.lx, c, s));
        if (parts.some((w) => Math.abs(w) > 1e-6 && Math.abs(w - 1) > 1e-6)) continue;
        const count = parts.reduce((a, w) => a + Math.round(w), 0);
        if (count < 1) continue;
        checked++;
        const want = obj(60 - M / 2 + s, 70 - M / 2 + r) * (count / (count + NORM_EPS));
        expect(canvas[r * M + s]).toBeCloseTo(want, 4);
      }
    expect(checked).toBeGreaterThan(150);
  });

  it('re-extraction returns each patch on its support (integer offsets)', () => {
    const obj = (x: number, y: number) => Math.sin(0.2 * x + 0.1 * y);
    const offs: [number, number][] = [
      [-3, -4],
      [3, -4],
      [-3, 4],
      [3, 4],
    ];
    const { patches, extracted } = run([obj], [[50, 50]], [offs]);
    for (let c = 0; c < 4; c++)
      for (let r = N / 4; r < N - N / 4; r++)
        for (let s = N / 4; s < N - N / 4; s++) {
          const k = c * N * N + r * N + s;
          expect(extracted[k]).toBeCloseTo(patches[k], 2);
        }
  });

  it('is per sample: a batch equals its samples run alone, and changing one sample leaves the other untouched', () => {
    const o1 = (x: number, y: number) => Math.sin(0.3 * x) * Math.cos(0.2 * y);
    const o2 = (x: number) => 5 + 0.1 * x;
    const offsA: [number, number][] = [
      [-2.5, -1],
      [2.5, -1],
      [-2.5, 1],
      [2.5, 1],
    ];
    const offsB: [number, number][] = [
      [-6.2, 0.4],
      [1.1, -5.3],
      [2.2, 2.2],
      [2.9, 2.7],
    ];
    const both = run(
      [o1, o2],
      [
        [40, 40],
        [90, 60],
      ],
      [offsA, offsB],
    );
    const a = run([o1], [[40, 40]], [offsA]);
    const b = run([o2], [[90, 60]], [offsB]);
    expect(Array.from(both.canvas.subarray(0, M * M))).toEqual(Array.from(a.canvas));
    expect(Array.from(both.canvas.subarray(M * M))).toEqual(Array.from(b.canvas));
    expect(Array.from(both.extracted.subarray(4 * N * N))).toEqual(Array.from(b.extracted));
    const other = run(
      [o1, (x) => -x],
      [
        [40, 40],
        [10, 10],
      ],
      [offsA, offsA],
    );
    expect(Array.from(other.extracted.subarray(0, 4 * N * N))).toEqual(Array.from(a.extracted));
  });

  it('gridsize 1 is padding and cropping with the 1/(mask + 0.001) factor', () => {
    const M1 = canvasSize(N, 1);
    const patch = cut((x, y) => x + 2 * y, 20, 20, N);
    const mats = reassemblyMatrices([0, 0], 1, 1, N, M1);
    const { extracted } = reassembleAndExtract(patch, mats);
    const k = (N / 2) * N + N / 2;
    expect(extracted[k] / (patch[k] / (1 + NORM_EPS))).toBeCloseTo(1, 6);
    expect(p).toBe(7);
  });
});
