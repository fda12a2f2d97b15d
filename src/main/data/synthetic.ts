/**
 * The built-in test specimen and probe. The object is a "cell smear": soft-edged discs and
 * fibres, each with its own absorption and phase shift, on a correlated random texture, so
 * amplitude and phase both carry real, partly independent structure (amplitude in [0.5, 1],
 * phase within ±π/2). The probe is a soft-edged disc of diameter D with a defocus phase.
 * Both are complex128 interleaved, seeded.
 */
import type { NdArray } from './ndarray';
import { type Rng, simulationRng } from '../numeric/rng';

/** Periodic separable Gaussian blur (σ in pixels) of an h × w real field, in place. */
export function blurPeriodic(field: Float64Array, h: number, w: number, sigma: number): void {
  const radius = Math.ceil(4 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
    sum += kernel[k + radius];
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] /= sum;
  const line = new Float64Array(Math.max(h, w));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) line[x] = field[y * w + x];
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * line[(((x + k) % w) + w) % w];
      field[y * w + x] = acc;
    }
  }
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) line[y] = field[y * w + x];
    for (let y = 0; y < h; y++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * line[(((y + k) % h) + h) % h];
      field[y * w + x] = acc;
    }
  }
}

function unit(a: Float64Array): Float64Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of a) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const span = hi - lo || 1;
  for (let i = 0; i < a.length; i++) a[i] = (a[i] - lo) / span;
  return a;
}

/** Correlated random texture in [0, 1]: coarse (σ 6 px) plus finer (σ 2 px) Gaussian fields. */
function texture(size: number, rng: Rng): Float64Array {
  const coarse = new Float64Array(size * size).map(() => rng.normal());
  const fine = new Float64Array(size * size).map(() => rng.normal());
  blurPeriodic(coarse, size, size, 6);
  blurPeriodic(fine, size, size, 2);
  unit(coarse);
  unit(fine);
  for (let i = 0; i < coarse.length; i++) coarse[i] += 0.35 * fine[i];
  return unit(coarse);
}

/** Soft step: 1 inside (d < 0), 0 outside, over about ±1.5 px. */
const soft = (d: number) => 0.5 * (1 - Math.tanh(d / 1.2));

/** Adds feature * weight to absorption and phase maps over the bounding box of a shape. */
function stamp(
  size: number,
  box: [number, number, number, number],
  inside: (x: number, y: number) => number,
  absorb: Float64Array,
  phase: Float64Array,
  a: number,
  p: number,
): void {
  const [x0, y0, x1, y1] = box.map((v) => Math.round(v));
  for (let y = Math.max(0, y0); y <= Math.min(size - 1, y1); y++)
    for (let x = Math.max(0, x0); x <= Math.min(size - 1, x1); x++) {
      const m = inside(x, y);
      absorb[y * size + x] += a * m;
      phase[y * size + x] += p * m;
    }
}

/** The synthetic specimen, size × size, complex128. */
export function syntheticObject(size: number, seed: number): NdArray {
  const rng = simulationRng(seed, 'object');
  const absorb = new Float64Array(size * size);
  const phase = new Float64Array(size * size);
  const nCells = Math.max(4, Math.round((size * size) / 2500));
  for (let c = 0; c < nCells; c++) {
    const cx = rng.random() * size;
    const cy = rng.random() * size;
    const rx = 5 + rng.random() * 17;
    const ry = rx * (0.6 + 0.4 * rng.random());
    const th = rng.random() * Math.PI;
    const [ct, st] = [Math.cos(th), Math.sin(th)];
    const a = 0.25 + 0.75 * rng.random();
    const p = (rng.random() < 0.5 ? -1 : 1) * (0.3 + 0.7 * rng.random());
    const r = Math.max(rx, ry) + 3;
    stamp(
      size,
      [cx - r, cy - r, cx + r, cy + r],
      (x, y) => {
        const u = ((x - cx) * ct + (y - cy) * st) / rx;
        const v = (-(x - cx) * st + (y - cy) * ct) / ry;
        return soft((Math.sqrt(u * u + v * v) - 1) * Math.min(rx, ry));
      },
      absorb,
      phase,
      a,
      p,
    );
    // a nucleus: stronger phase, little absorption
    if (rng.random() < 0.6) {
      const rn = 0.35 * Math.min(rx, ry);
      stamp(
        size,
        [cx - rn - 3, cy - rn - 3, cx + rn + 3, cy + rn + 3],
        (x, y) => soft(Math.hypot(x - cx, y - cy) - rn),
        absorb,
        phase,
        0.15,
        0.6 * Math.sign(p),
      );
    }
  }
  const nFibres = Math.max(2, Math.round(size / 64));
  for (let f = 0; f < nFibres; f++) {
    const x0 = rng.random() * size;
    const y0 = rng.random() * size;
    const th = rng.random() * Math.PI;
    const len = 40 + rng.random() * 120;
    const half = 1 + rng.random() * 1.5;
    const [dx, dy] = [Math.cos(th), Math.sin(th)];
    const x1 = x0 + len * dx;
    const y1 = y0 + len * dy;
    stamp(
      size,
      [Math.min(x0, x1) - 4, Math.min(y0, y1) - 4, Math.max(x0, x1) + 4, Math.max(y0, y1) + 4],
      (x, y) => {
        const t = Math.max(0, Math.min(len, (x - x0) * dx + (y - y0) * dy));
        return soft(Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) - half);
      },
      absorb,
      phase,
      0.8,
      0.9,
    );
  }
  const texA = texture(size, rng);
  const texP = texture(size, rng);
  const data = new Float64Array(2 * size * size);
  for (let i = 0; i < size * size; i++) {
    const amp = 1 - 0.35 * Math.min(1, absorb[i]) - 0.15 * texA[i];
    const ph = Math.max(
      -Math.PI / 2,
      Math.min(Math.PI / 2, 1.1 * Math.max(-1.2, Math.min(1.2, phase[i])) + 0.5 * (2 * texP[i] - 1)),
    );
    data[2 * i] = amp * Math.cos(ph);
    data[2 * i + 1] = amp * Math.sin(ph);
  }
  return { dtype: 'complex128', shape: [size, size], data };
}

/**
 * Soft-edged disc of diameter `diameterPx` centred at (N/2 − 0.5, N/2 − 0.5) (PtychoPINN's
 * probe-mask centre), Gaussian-like edge ≈ 1.5 px, defocus phase of π at the rim, unit peak
 * amplitude. The absolute scale does not matter: the dose sets the intensity scale.
 */
export function syntheticProbe(N: number, diameterPx: number): NdArray {
  const R = diameterPx / 2;
  const data = new Float64Array(2 * N * N);
  let peak = 0;
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      const r = Math.hypot(x - N / 2 + 0.5, y - N / 2 + 0.5);
      const amp = 0.5 * (1 - Math.tanh((r - R) / 1.5));
      const ph = Math.PI * (r / R) ** 2;
      data[2 * (y * N + x)] = amp * Math.cos(ph);
      data[2 * (y * N + x) + 1] = amp * Math.sin(ph);
      peak = Math.max(peak, amp);
    }
  for (let i = 0; i < data.length; i++) data[i] /= peak;
  return { dtype: 'complex128', shape: [N, N], data };
}
