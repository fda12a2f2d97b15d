/**
 * rPIE / ePIE with probe refinement: the classical iterative reconstruction the study scores
 * beside PtychoPINN. Plain float64 typed arrays over the simulator's own FFT (numeric/fft.ts),
 * with the simulator's conventions, so a perfect object and probe reproduce the stored
 * amplitudes exactly:
 *   - patch pixel (i, j) of position (x, y) is object pixel (y − N/2 + i, x − N/2 + j);
 *   - stored amplitude d = |fftshift(fft2(P ⊙ O_patch))| / N (the file's normalised units).
 *
 * Per position, in a seeded random order each iteration (Maiden & Rodenburg 2009; rPIE:
 * Maiden, Johnson & Li, Optica 4, 736, 2017):
 *   ψ = P·O_j,  Ψ = F ψ,  Ψ' = M·Ψ/|Ψ|,  Δ = F⁻¹Ψ' − ψ
 *   rPIE  O_j += P̄ Δ / ((1 − α)|P|² + α max|P|²)      P += Ō_j Δ / ((1 − β)|O_j|² + β max|O_j|²)
 *   ePIE  O_j += α P̄ Δ / max|P|²                        P += β Ō_j Δ / max|O_j|²
 * The probe update uses the object patch from before this position's object update and
 * starts at iteration `probeUpdateStart` (0-based), so the object settles first.
 */
import { StudyError } from '../../shared/errors';
import { fft2Transposed } from '../numeric/fft';
import { simulationRng } from '../numeric/rng';
import { lsqmlIteration, lsqmlScratch } from './lsqml';
import { applyModuli, type ScanState } from './scan-state';
import { CLASSICAL_ALGORITHMS, type ClassicalAlgorithm } from '../../shared/classical';

export { CLASSICAL_ALGORITHMS, type ClassicalAlgorithm };

export interface PieOptions {
  algorithm: ClassicalAlgorithm;
  iterations: number;
  probeUpdate: boolean;
  /** Object step: rPIE's α (regularisation weight) or ePIE's step. */
  alpha: number;
  /** Probe step: rPIE's β or ePIE's step. */
  beta: number;
  /** First iteration (0-based) whose sweeps update the probe. */
  probeUpdateStart: number;
  /** Seed of the position order. */
  seed: number;
  /** LSQML: the directions' denominators are regularised by delta × their largest value. */
  delta: number;
  /** LSQML with the prior: momentum of the object update (0 = the plain least-squares step; unused without the prior). */
  momentum: number;
  /**
   * LSQML: total-variation prior weight at 10⁵ photons per pattern (scaled by 10⁵ / the data's
   * photons), in units of the data's energy per pattern; the maximum-a-posteriori weight
   * against the amplitude likelihood is λ = 4·10⁵·tv (see `tvWeight`); 0 = none.
   */
  tv: number;
  /** LSQML: smoothing ε of the prior's |∇O|. */
  tvEpsilon: number;
}

/**
 * Step sizes per algorithm. rPIE: Maiden et al.'s α = 0.1 (object) and β = 1 (probe). ePIE:
 * smaller steps than the paper's 1, which average the Poisson noise of the study's doses
 * (measured on a simulated dense scan at 10⁵ photons: amplitude SSIM 0.88 with α 0.3, β 0.1
 * against 0.65 for rPIE α 0.1), hence ePIE is the default.
 */
export const PIE_STEPS: Record<ClassicalAlgorithm, { alpha: number; beta: number }> = {
  rpie: { alpha: 0.1, beta: 1 },
  epie: { alpha: 0.3, beta: 0.1 },
  lsqml: { alpha: 1, beta: 1 },
};

/** The probe waits a few sweeps for the object to take shape. */
export const DEFAULT_PIE: PieOptions = {
  algorithm: 'epie',
  iterations: 100,
  probeUpdate: true,
  ...PIE_STEPS.epie,
  probeUpdateStart: 5,
  seed: 0,
  delta: 1e-3,
  momentum: 0.8,
  tv: 0,
  tvEpsilon: 0.002,
};

/** Defaults for one algorithm, with the given fields overriding them. */
export function pieOptions(o: Partial<PieOptions> = {}): PieOptions {
  const algorithm = o.algorithm ?? DEFAULT_PIE.algorithm;
  const defined = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_PIE, ...PIE_STEPS[algorithm], ...defined, algorithm };
}

/** What the algorithm needs of a scan: the study file's arrays, named as there. */
export interface PieData {
  N: number;
  /** (M, N, N) stored amplitudes, row-major, fftshifted (zero frequency at N/2). */
  diffraction: Float32Array | Float64Array;
  /** Patch centres in object pixels (rounded to the nearest pixel). */
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  objectHeight: number;
  objectWidth: number;
  /** Initial probe, (N, N) interleaved complex. */
  probe: Float32Array | Float64Array;
  /** Initial object, (H, W) interleaved complex; default 1 + 0i everywhere. */
  object?: Float32Array | Float64Array;
  /**
   * Iterations already done (resuming from their object and probe): the run continues at
   * iteration `doneIterations + 1` with the position orders and probe schedule it would have had.
   */
  doneIterations?: number;
}

export interface PieIteration {
  iteration: number;
  /** Σ(|Ψ| − M)² / ΣM² over the sweep, each term measured before that position's update. */
  error: number;
  seconds: number;
}

export interface PieResult {
  /** (H, W) object, split planes. */
  objectRe: Float64Array;
  objectIm: Float64Array;
  /** (N, N) probe, split planes. */
  probeRe: Float64Array;
  probeIm: Float64Array;
  /** Σ_j |P|² placed at each position: where and how strongly the object was illuminated. */
  illumination: Float64Array;
  /** Data-fit error of each iteration this call ran. */
  errors: number[];
  seconds: number;
  /** Iterations reached, counting those resumed from (fewer than asked when cancelled). */
  iterations: number;
  cancelled: boolean;
}

export interface PieHooks {
  onIteration?: (it: PieIteration) => void | Promise<void>;
  /** Checked between iterations; true stops with what has been reached. */
  shouldStop?: () => boolean;
}

function checkInputs(d: PieData, o: PieOptions): { rows: Int32Array; cols: Int32Array } {
  const { N } = d;
  const M = d.xs.length;
  if (d.ys.length !== M || d.diffraction.length !== M * N * N)
    throw new StudyError('BAD_INPUT', 'diffraction and coordinates disagree in count', {
      found: { xcoords: d.xs.length, ycoords: d.ys.length, diffraction_values: d.diffraction.length },
      expected: `${M} × ${N} × ${N} amplitudes`,
    });
  if (!(N >= 2 && (N & (N - 1)) === 0))
    throw new StudyError('BAD_INPUT', 'the classical arm needs a power-of-two pattern size', {
      key: 'diffraction',
      found: N,
      expected: 'N = 2^k (the study uses 64)',
    });
  if (d.probe.length !== 2 * N * N)
    throw new StudyError('BAD_INPUT', 'probe must be N × N complex', {
      key: 'probeGuess',
      found: d.probe.length / 2,
      expected: N * N,
    });
  if (d.object && d.object.length !== 2 * d.objectHeight * d.objectWidth)
    throw new StudyError('BAD_INPUT', 'initial object has the wrong size', { key: 'objectGuess' });
  if (!(o.iterations >= 0) || !Number.isInteger(o.iterations))
    throw new StudyError('BAD_INPUT', 'iterations must be a whole number ≥ 0', { found: o.iterations });
  for (const [k, v] of [
    ['alpha', o.alpha],
    ['beta', o.beta],
  ] as const)
    if (!(v > 0 && v <= 1)) throw new StudyError('BAD_INPUT', `${k} must lie in (0, 1]`, { key: k, found: v });
  if (!(o.momentum >= 0 && o.momentum < 1))
    throw new StudyError('BAD_INPUT', 'momentum must lie in [0, 1)', { key: 'momentum', found: o.momentum });
  const rows = new Int32Array(M);
  const cols = new Int32Array(M);
  for (let j = 0; j < M; j++) {
    rows[j] = Math.round(d.ys[j]) - N / 2;
    cols[j] = Math.round(d.xs[j]) - N / 2;
    if (rows[j] < 0 || cols[j] < 0 || rows[j] + N > d.objectHeight || cols[j] + N > d.objectWidth)
      throw new StudyError('BAD_INPUT', `scan position ${j} puts its patch outside the object`, {
        key: 'xcoords/ycoords',
        found: { x: d.xs[j], y: d.ys[j] },
        expected: `a ${N} × ${N} patch inside ${d.objectHeight} × ${d.objectWidth}`,
      });
  }
  return { rows, cols };
}

/**
 * The position order of each sweep: a Fisher–Yates shuffle of the previous sweep's order from
 * one seeded stream (yields the same array, reshuffled). Exported so a reference
 * implementation can be fed the very same orders.
 */
export function* sweepOrders(M: number, seed: number): Generator<Int32Array, never> {
  const order = Int32Array.from({ length: M }, (_, j) => j);
  const rng = simulationRng(seed, 'classical/order');
  for (;;) {
    for (let j = M - 1; j > 0; j--) {
      const k = Math.floor(rng.random() * (j + 1));
      const t = order[j];
      order[j] = order[k];
      order[k] = t;
    }
    yield order;
  }
}

/**
 * Measured Fourier moduli in the FFT's own (unshifted, unnormalised) layout, transposed as
 * `fft2Transposed` leaves the far field: N·ifftshift(d)ᵀ.
 */
function moduli(d: PieData): Float64Array {
  const { N } = d;
  const nn = N * N;
  const h = N >> 1;
  const M = d.xs.length;
  const out = new Float64Array(M * nn);
  for (let j = 0; j < M; j++)
    for (let y = 0; y < N; y++) {
      const src = j * nn + ((y + h) % N) * N;
      for (let x = 0; x < N; x++) out[j * nn + x * N + y] = N * d.diffraction[src + ((x + h) % N)];
    }
  return out;
}

/**
 * Mean photons per pattern, read off the data: stored amplitudes are sqrt(counts) / s, so the
 * smallest non-zero one is one photon (1 / s) and counts = (s·d)². Infinity for noiseless data
 * (no count structure), which turns a noise-scaled prior off.
 */
export function photonsPerPattern(d: PieData): number {
  let min = Number.POSITIVE_INFINITY;
  let sum = 0;
  for (const v of d.diffraction) {
    if (v > 0 && v < min) min = v;
    sum += v * v;
  }
  if (!Number.isFinite(min)) return Number.POSITIVE_INFINITY;
  const s = 1 / min;
  // counts must be whole numbers: otherwise the data carry no photon scale
  let off = 0;
  const n = Math.min(d.diffraction.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = (s * d.diffraction[i]) ** 2;
    if (c < 1000) off = Math.max(off, Math.abs(c - Math.round(c)));
  }
  if (off > 0.05) return Number.POSITIVE_INFINITY;
  return (s * s * sum) / d.xs.length;
}

/**
 * The prior's weight μ in LSQML's data units (½Σ|χ|², object pixels). Under the amplitude
 * noise model the stored amplitude of a pattern is d = √counts / s (s² = photons / Σd², one
 * photon is d = 1/s) with variance 1/(4s²), so the negative log-likelihood is 4s²·½Σ|χ|²; a
 * prior −log p(O) = λ·TV(|O|) therefore enters as μ = λ / (4s²). With λ = 4·10⁵·tv:
 * μ = tv · (10⁵ / photons) · Σd², the data's energy per pattern. The weight is then the
 * same at every dose and every scan density: where fewer exposures reach a pixel its data
 * term is flatter, so the prior counts for more there — the MAP trade-off, per pixel. (The
 * first version scaled by the largest summed illumination instead, which weighs the prior
 * by the scan's peak overlap: ≈ 14 % less on the demo's dense view than on the trend's.)
 * 0 for noiseless data (no photon scale).
 */
export function tvWeight(data: PieData, tv: number): number {
  if (!(tv > 0)) return 0;
  const photons = photonsPerPattern(data);
  if (!Number.isFinite(photons)) return 0;
  let energy = 0;
  for (const v of data.diffraction) energy += v * v;
  return tv * (1e5 / photons) * (energy / data.xs.length);
}

interface SweepState extends ScanState {
  /** Per-position scratch: the exit wave, its far field, then back. */
  fRe: Float64Array;
  fIm: Float64Array;
  o: PieOptions;
}

/** One sweep over the positions in `order` (synchronous, so V8 optimises it as one unit); returns Σ(|Ψ| − M)². */
function sweep(st: SweepState, order: Int32Array, updateProbe: boolean): number {
  const { N, W, rows, cols, mod, oRe, oIm, pRe, pIm, fRe, fIm, o } = st;
  const nn = N * N;
  const rpie = o.algorithm === 'rpie';
  const alpha = o.alpha;
  const beta = o.beta;
  let err = 0;
  for (const j of order) {
    const r0 = rows[j];
    const c0 = cols[j];
    let pMax = 0;
    let zMax = 0;
    for (let r = 0; r < N; r++) {
      const base = (r0 + r) * W + c0;
      for (let c = 0; c < N; c++) {
        const i = r * N + c;
        const a = oRe[base + c];
        const b = oIm[base + c];
        const pr = pRe[i];
        const pi = pIm[i];
        fRe[i] = pr * a - pi * b; // ψ (recomputed from P and the patch where Δ needs it)
        fIm[i] = pr * b + pi * a;
        const p2 = pr * pr + pi * pi;
        if (p2 > pMax) pMax = p2;
        const z2 = a * a + b * b;
        if (z2 > zMax) zMax = z2;
      }
    }
    fft2Transposed(fRe, fIm, N); // far field, transposed (so is mod)
    // modulus constraint, then the inverse transform as conj(F(conj(·)))/N²
    err += applyModuli(fRe, fIm, mod, j * nn);
    fft2Transposed(fRe, fIm, N); // back in the patch's own layout
    const invN2 = 1 / nn;
    const stepO = alpha / pMax;
    const stepP = beta / zMax;
    for (let r = 0; r < N; r++) {
      const base = (r0 + r) * W + c0;
      for (let c = 0; c < N; c++) {
        const i = r * N + c;
        const pr = pRe[i];
        const pi = pIm[i];
        // the object patch before this position's update (each pixel is read before it is written)
        const a = oRe[base + c];
        const b = oIm[base + c];
        const dr = fRe[i] * invN2 - (pr * a - pi * b); // Δ = ψ' − ψ
        const di = -fIm[i] * invN2 - (pr * b + pi * a);
        const wO = rpie ? 1 / ((1 - alpha) * (pr * pr + pi * pi) + alpha * pMax) : stepO;
        oRe[base + c] = a + (pr * dr + pi * di) * wO;
        oIm[base + c] = b + (pr * di - pi * dr) * wO;
        if (updateProbe) {
          const wP = rpie ? 1 / ((1 - beta) * (a * a + b * b) + beta * zMax) : stepP;
          pRe[i] += (a * dr + b * di) * wP;
          pIm[i] += (a * di - b * dr) * wP;
        }
      }
    }
  }
  return err;
}

/** Runs the sweeps; yields to the event loop after each iteration so a caller can cancel. */
export async function reconstructPie(data: PieData, options: PieOptions, hooks: PieHooks = {}): Promise<PieResult> {
  const o = options;
  const { rows, cols } = checkInputs(data, o);
  const { N, objectHeight: H, objectWidth: W } = data;
  const M = data.xs.length;
  const nn = N * N;
  const mod = moduli(data);
  const oRe = new Float64Array(H * W).fill(1);
  const oIm = new Float64Array(H * W);
  if (data.object)
    for (let i = 0; i < H * W; i++) {
      oRe[i] = data.object[2 * i];
      oIm[i] = data.object[2 * i + 1];
    }
  const pRe = new Float64Array(nn);
  const pIm = new Float64Array(nn);
  for (let i = 0; i < nn; i++) {
    pRe[i] = data.probe[2 * i];
    pIm[i] = data.probe[2 * i + 1];
  }
  // per-position scratch: exit wave → its transform → back (Δ is formed in the update)
  const fRe = new Float64Array(nn);
  const fIm = new Float64Array(nn);
  const scan: ScanState = { N, W, rows, cols, mod, oRe, oIm, pRe, pIm };
  const mu = o.algorithm === 'lsqml' ? tvWeight(data, o.tv) : 0;
  const state: SweepState = { ...scan, fRe, fIm, o };
  const lsqml =
    o.algorithm === 'lsqml'
      ? {
          state: {
            ...scan,
            delta: o.delta,
            alpha: o.alpha,
            beta: o.beta,
            momentum: mu > 0 ? o.momentum : 0,
            tv: mu,
            tvEpsilon: o.tvEpsilon,
          },
          scratch: lsqmlScratch(M, N, H, W),
        }
      : null;
  const orders = sweepOrders(M, o.seed);
  const first = Math.max(0, Math.min(o.iterations, data.doneIterations ?? 0));
  for (let k = 0; k < first; k++) orders.next();
  const norm = mod.reduce((s, v) => s + v * v, 0) || 1;
  const errors: number[] = [];
  const t0 = performance.now();
  let cancelled = false;
  for (let it = first; it < o.iterations; it++) {
    if (hooks.shouldStop?.()) {
      cancelled = true;
      break;
    }
    const ti = performance.now();
    const order = orders.next().value as Int32Array;
    const updateProbe = o.probeUpdate && it >= o.probeUpdateStart;
    const err = lsqml ? lsqmlIteration(lsqml.state, lsqml.scratch, updateProbe) : sweep(state, order, updateProbe);
    const error = err / norm;
    errors.push(error);
    if (!Number.isFinite(error))
      throw new StudyError('TRAINING_FAILED', `the ${o.algorithm} reconstruction diverged at iteration ${it + 1}`, {
        found: error,
      });
    await hooks.onIteration?.({ iteration: it + 1, error, seconds: (performance.now() - ti) / 1000 });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const illumination = new Float64Array(H * W);
  for (let j = 0; j < M; j++)
    for (let r = 0; r < N; r++) {
      const base = (rows[j] + r) * W + cols[j];
      for (let c = 0; c < N; c++) {
        const i = r * N + c;
        illumination[base + c] += pRe[i] * pRe[i] + pIm[i] * pIm[i];
      }
    }
  return {
    objectRe: oRe,
    objectIm: oIm,
    probeRe: pRe,
    probeIm: pIm,
    illumination,
    errors,
    seconds: (performance.now() - t0) / 1000,
    iterations: first + errors.length,
    cancelled,
  };
}
