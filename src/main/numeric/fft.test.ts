import { describe, expect, it } from 'vitest';
import { fft2, fft2Image, fft2PerLine, fftfreq, makeFft } from './fft';
import { simulationRng } from './rng';

/** The textbook O(n²) DFT (forward unscaled, inverse scaled by 1/n). */
function naiveDft(re: Float64Array, im: Float64Array, inverse: boolean): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  const sign = inverse ? 1 : -1;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let ar = 0;
    let ai = 0;
    for (let j = 0; j < n; j++) {
      const a = (sign * 2 * Math.PI * ((k * j) % n)) / n;
      ar += re[j] * Math.cos(a) - im[j] * Math.sin(a);
      ai += re[j] * Math.sin(a) + im[j] * Math.cos(a);
    }
    outRe[k] = inverse ? ar / n : ar;
    outIm[k] = inverse ? ai / n : ai;
  }
  return { re: outRe, im: outIm };
}

function randomSignal(n: number, seed: number): { re: Float64Array; im: Float64Array } {
  const rng = simulationRng(seed, 'fft');
  return {
    re: Float64Array.from({ length: n }, () => rng.normal()),
    im: Float64Array.from({ length: n }, () => rng.normal()),
  };
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('one FFT: radix-2 for powers of two, Bluestein for other lengths', () => {
  for (const n of [1, 2, 4, 8, 64, 3, 5, 6, 12, 17, 45, 100]) {
    for (const inverse of [false, true]) {
      it(`length ${n} ${inverse ? 'inverse' : 'forward'} matches the naive DFT`, () => {
        const x = randomSignal(n, n);
        const want = naiveDft(x.re, x.im, inverse);
        const re = Float64Array.from(x.re);
        const im = Float64Array.from(x.im);
        makeFft(n)(re, im, inverse);
        const tol = 1e-12 * Math.max(1, n);
        expect(maxAbsDiff(re, want.re)).toBeLessThan(tol);
        expect(maxAbsDiff(im, want.im)).toBeLessThan(tol);
      });
    }
  }

  it('inverse undoes forward for a non-power-of-two length', () => {
    const x = randomSignal(30, 1);
    const re = Float64Array.from(x.re);
    const im = Float64Array.from(x.im);
    const f = makeFft(30);
    f(re, im, false);
    f(re, im, true);
    expect(maxAbsDiff(re, x.re)).toBeLessThan(1e-12);
    expect(maxAbsDiff(im, x.im)).toBeLessThan(1e-12);
  });

  it('the 2-D transforms (in place and on images) agree with row-then-column naive DFTs, any size', () => {
    for (const [h, w] of [
      [8, 16],
      [6, 10],
      [16, 12],
    ]) {
      const x = randomSignal(h * w, h * 100 + w);
      // naive: rows, then columns
      const wantRe = Float64Array.from(x.re);
      const wantIm = Float64Array.from(x.im);
      for (let y = 0; y < h; y++) {
        const r = naiveDft(wantRe.slice(y * w, (y + 1) * w), wantIm.slice(y * w, (y + 1) * w), false);
        wantRe.set(r.re, y * w);
        wantIm.set(r.im, y * w);
      }
      for (let c = 0; c < w; c++) {
        const colRe = Float64Array.from({ length: h }, (_, y) => wantRe[y * w + c]);
        const colIm = Float64Array.from({ length: h }, (_, y) => wantIm[y * w + c]);
        const r = naiveDft(colRe, colIm, false);
        for (let y = 0; y < h; y++) {
          wantRe[y * w + c] = r.re[y];
          wantIm[y * w + c] = r.im[y];
        }
      }
      const re = Float64Array.from(x.re);
      const im = Float64Array.from(x.im);
      fft2(re, im, h, w);
      expect(maxAbsDiff(re, wantRe)).toBeLessThan(1e-10);
      expect(maxAbsDiff(im, wantIm)).toBeLessThan(1e-10);
      const perLineRe = Float64Array.from(x.re);
      const perLineIm = Float64Array.from(x.im);
      fft2PerLine(perLineRe, perLineIm, h, w);
      expect(maxAbsDiff(perLineRe, wantRe)).toBeLessThan(1e-10);
      const img = fft2Image({ height: h, width: w, re: x.re, im: x.im });
      expect(maxAbsDiff(img.re, wantRe)).toBeLessThan(1e-10);
      expect(maxAbsDiff(img.im, wantIm)).toBeLessThan(1e-10);
      const back = fft2Image(img, true);
      expect(maxAbsDiff(back.re, x.re)).toBeLessThan(1e-12);
      expect(maxAbsDiff(back.im, x.im)).toBeLessThan(1e-12);
    }
  });

  it('fftfreq follows numpy for even and odd n', () => {
    expect(Array.from(fftfreq(4))).toEqual([0, 0.25, -0.5, -0.25]);
    expect(Array.from(fftfreq(5, 2))).toEqual([0, 0.1, 0.2, -0.2, -0.1]);
  });
});
