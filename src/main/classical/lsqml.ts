/**
 * LSQML: the least-squares maximum-likelihood solver of Odstrčil, Menzel & Guizar-Sicairos
 * (Opt. Express 26, 3108, 2018), as pty-chi and PtychoShelves run it, with the Gaussian
 * (amplitude) noise model. One iteration is one full-batch step over every position:
 *
 *   ψ_j = P·O_j,  χ_j = F⁻¹(M_j·Fψ_j/|Fψ_j|) − ψ_j                      (exit-wave update)
 *   ΔO = Σ_j P̄ χ_j / (Σ_j |P|² + δ_O)    ΔP = Σ_j Ō_j χ_j / (Σ_j |O_j|² + δ_P)   (directions)
 *   (a_j, b_j) = argmin ‖χ_j − a P ΔO_j − b ΔP O_j‖²                     (per-position steps)
 *   V ← m·V + ΔO · Σ_j a_j |P|² / Σ_j |P|²,  O += V     P += mean_j(b_j) ΔP
 *
 * With the total-variation prior (weight μ, `tv`) the object direction becomes
 * (Σ_j P̄ χ_j − μ ∂TV/∂Ō) / (Σ_j |P|² + δ_O + μ c), c the prior's own curvature at the pixel
 * (lagged diffusivity), which keeps the step stable where the prior outweighs the data.
 * m is the object's momentum (heavy ball, as pty-chi's LSQML offers; pie.ts runs it only
 * with the prior): the plain step crawls under the prior (its pull is bounded, so a large
 * flat region moves a little per iteration) — on the demo data ≈ 2000 iterations to settle,
 * with m = 0.8 ≈ 100, ending at a lower objective. Without the prior momentum only reaches
 * the maximum-likelihood point sooner, which on sparse views fits more noise.
 *
 * δ_O, δ_P are `delta` × the largest illumination (resp. object intensity sum), so the
 * directions stay bounded where the probe barely reaches. Being a full-batch method with an
 * optimal step per update, it has no per-position noise floor: a fixed point is a stationary
 * point of the amplitude likelihood, whereas ePIE / rPIE with a constant step keep
 * fluctuating around it. Same conventions and FFT path as `pie.ts`' sweep (the far field is
 * transposed, so are the moduli).
 */
import { fft2Transposed } from '../numeric/fft';
import { applyModuli, type ScanState } from './scan-state';

/** LSQML's settings on top of the scan: δ, α, β as in `PieOptions`; `tv` already scaled to the data. */
export interface LsqmlState extends ScanState {
  /** Relative regularisation of the directions' denominators. */
  delta: number;
  /** Fractions of the optimal object and probe steps taken (1 = the least-squares step). */
  alpha: number;
  beta: number;
  /** Momentum m of the object update, in [0, 1). */
  momentum: number;
  /**
   * Weight μ of the total-variation prior in the data term's own units (0: none): the
   * iteration descends ½Σ|χ|² + μ·Σ|∇|O||_ε. `tvWeight` in pie.ts derives it from the noise model.
   */
  tv: number;
  /** Smoothing of |∇O| in the prior (object units). */
  tvEpsilon: number;
}

/** Scratch for `lsqmlIteration`, allocated once per run. */
export interface LsqmlScratch {
  chiRe: Float64Array;
  chiIm: Float64Array;
  fRe: Float64Array;
  fIm: Float64Array;
  numORe: Float64Array;
  numOIm: Float64Array;
  denO: Float64Array;
  accO: Float64Array;
  numPRe: Float64Array;
  numPIm: Float64Array;
  denP: Float64Array;
  gx: Float64Array;
  gy: Float64Array;
  /** The object's last update (momentum). */
  vRe: Float64Array;
  vIm: Float64Array;
  /** The prior's per-pixel weights 1 / |∇|O||_ε (for its curvature). */
  tvW: Float64Array;
}

export function lsqmlScratch(M: number, N: number, H: number, W: number): LsqmlScratch {
  const nn = N * N;
  return {
    chiRe: new Float64Array(M * nn),
    chiIm: new Float64Array(M * nn),
    fRe: new Float64Array(nn),
    fIm: new Float64Array(nn),
    numORe: new Float64Array(H * W),
    numOIm: new Float64Array(H * W),
    denO: new Float64Array(H * W),
    accO: new Float64Array(H * W),
    numPRe: new Float64Array(nn),
    numPIm: new Float64Array(nn),
    denP: new Float64Array(nn),
    gx: new Float64Array(H * W),
    gy: new Float64Array(H * W),
    vRe: new Float64Array(H * W),
    vIm: new Float64Array(H * W),
    tvW: new Float64Array(H * W),
  };
}

/** One LSQML iteration in place; returns Σ(|Ψ| − M)² measured before it. */
export function lsqmlIteration(st: LsqmlState, s: LsqmlScratch, updateProbe: boolean): number {
  const { N, W, rows, cols, mod, oRe, oIm, pRe, pIm } = st;
  const { chiRe, chiIm, fRe, fIm, numORe, numOIm, denO, accO, numPRe, numPIm, denP } = s;
  const nn = N * N;
  const M = rows.length;
  const invN2 = 1 / nn;
  numORe.fill(0);
  numOIm.fill(0);
  denO.fill(0);
  accO.fill(0);
  numPRe.fill(0);
  numPIm.fill(0);
  denP.fill(0);
  let err = 0;
  // pass 1: exit-wave updates χ_j and the summed directions
  for (let j = 0; j < M; j++) {
    const r0 = rows[j];
    const c0 = cols[j];
    for (let r = 0; r < N; r++) {
      const base = (r0 + r) * W + c0;
      for (let c = 0; c < N; c++) {
        const i = r * N + c;
        const a = oRe[base + c];
        const b = oIm[base + c];
        fRe[i] = pRe[i] * a - pIm[i] * b;
        fIm[i] = pRe[i] * b + pIm[i] * a;
      }
    }
    fft2Transposed(fRe, fIm, N);
    const mj = j * nn;
    err += applyModuli(fRe, fIm, mod, mj);
    fft2Transposed(fRe, fIm, N);
    for (let r = 0; r < N; r++) {
      const base = (r0 + r) * W + c0;
      for (let c = 0; c < N; c++) {
        const i = r * N + c;
        const pr = pRe[i];
        const pi = pIm[i];
        const a = oRe[base + c];
        const b = oIm[base + c];
        const dr = fRe[i] * invN2 - (pr * a - pi * b);
        const di = -fIm[i] * invN2 - (pr * b + pi * a);
        chiRe[mj + i] = dr;
        chiIm[mj + i] = di;
        numORe[base + c] += pr * dr + pi * di;
        numOIm[base + c] += pr * di - pi * dr;
        denO[base + c] += pr * pr + pi * pi;
        numPRe[i] += a * dr + b * di;
        numPIm[i] += a * di - b * dr;
        denP[i] += a * a + b * b;
      }
    }
  }
  // directions, in place of the numerators
  let maxO = 0;
  for (let k = 0; k < denO.length; k++) if (denO[k] > maxO) maxO = denO[k];
  if (st.tv > 0) tvDescent(st, s, st.tv);
  const dO = st.delta * maxO;
  const { tvW } = s;
  for (let k = 0; k < denO.length; k++) {
    // with the prior, its curvature joins the data's (lagged diffusivity): μ (2w_k + w_left + w_up)
    const c = st.tv > 0 ? st.tv * (2 * tvW[k] + (k % W > 0 ? tvW[k - 1] : 0) + (k >= W ? tvW[k - W] : 0)) : 0;
    const w = 1 / (denO[k] + dO + c);
    numORe[k] *= w;
    numOIm[k] *= w;
  }
  let maxP = 0;
  for (let i = 0; i < nn; i++) if (denP[i] > maxP) maxP = denP[i];
  const dP = st.delta * maxP;
  for (let i = 0; i < nn; i++) {
    const w = 1 / (denP[i] + dP);
    numPRe[i] *= w;
    numPIm[i] *= w;
  }
  // pass 2: optimal object and probe steps per position
  let sumB = 0;
  for (let j = 0; j < M; j++) {
    const r0 = rows[j];
    const c0 = cols[j];
    const mj = j * nn;
    let aa = 0;
    let ab = 0;
    let bb = 0;
    let ax = 0;
    let bx = 0;
    for (let r = 0; r < N; r++) {
      const base = (r0 + r) * W + c0;
      for (let c = 0; c < N; c++) {
        const i = r * N + c;
        const pr = pRe[i];
        const pi = pIm[i];
        const ur = numORe[base + c];
        const ui = numOIm[base + c];
        const ar = pr * ur - pi * ui; // P ΔO
        const ai = pr * ui + pi * ur;
        const or = oRe[base + c];
        const oi = oIm[base + c];
        const vr = numPRe[i];
        const vi = numPIm[i];
        const br = vr * or - vi * oi; // ΔP O
        const bi = vr * oi + vi * or;
        const xr = chiRe[mj + i];
        const xi = chiIm[mj + i];
        aa += ar * ar + ai * ai;
        ab += ar * br + ai * bi;
        bb += br * br + bi * bi;
        ax += ar * xr + ai * xi;
        bx += br * xr + bi * xi;
      }
    }
    let sa: number;
    let sb = 0;
    if (updateProbe) {
      const det = aa * bb - ab * ab;
      if (det > 1e-12 * aa * bb && det > 0) {
        sa = (ax * bb - bx * ab) / det;
        sb = (bx * aa - ax * ab) / det;
      } else {
        sa = aa > 0 ? ax / aa : 0;
      }
    } else sa = aa > 0 ? ax / aa : 0;
    sa = st.alpha * Math.min(Math.max(sa, 0), 2);
    sb = st.beta * Math.min(Math.max(sb, 0), 2);
    sumB += sb;
    for (let r = 0; r < N; r++) {
      const base = (r0 + r) * W + c0;
      for (let c = 0; c < N; c++) {
        const i = r * N + c;
        accO[base + c] += sa * (pRe[i] * pRe[i] + pIm[i] * pIm[i]);
      }
    }
  }
  const { vRe, vIm } = s;
  const m = st.momentum;
  for (let k = 0; k < accO.length; k++) {
    if (denO[k] === 0) continue;
    const step = accO[k] / denO[k];
    const vr = m * vRe[k] + step * numORe[k];
    const vi = m * vIm[k] + step * numOIm[k];
    vRe[k] = vr;
    vIm[k] = vi;
    oRe[k] += vr;
    oIm[k] += vi;
  }
  if (updateProbe && M > 0) {
    const b = sumB / M;
    for (let i = 0; i < nn; i++) {
      pRe[i] += b * numPRe[i];
      pIm[i] += b * numPIm[i];
    }
  }
  return err;
}

/**
 * Adds −μ ∂TV/∂|O| along O / |O| to the object numerators: TV = Σ sqrt(|∂x|O||² + |∂y|O||² + ε²)
 * over the object's amplitude (forward differences, zero flux at the border), so the prior
 * pulls the amplitude toward piecewise-smooth and leaves the phase to the data. (A prior on
 * the complex object, or amplitude smoothing that spares the phase's edges, did worse: docs/benchmarks.md.)
 */
function tvDescent(st: LsqmlState, s: LsqmlScratch, mu: number): void {
  const { W, oRe, oIm } = st;
  const { gx, gy, numORe, numOIm } = s;
  const H = oRe.length / W;
  const e2 = st.tvEpsilon * st.tvEpsilon;
  const amp = (k: number) => Math.sqrt(oRe[k] * oRe[k] + oIm[k] * oIm[k]);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const k = y * W + x;
      const a = amp(k);
      const dx = x + 1 < W ? amp(k + 1) - a : 0;
      const dy = y + 1 < H ? amp(k + W) - a : 0;
      const w = 1 / Math.sqrt(dx * dx + dy * dy + e2);
      gx[k] = w * dx;
      gy[k] = w * dy;
      s.tvW[k] = w;
    }
  // −∂TV/∂|O| = div(∇|O| / |∇|O||_ε) (backward differences), along O / |O|
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const k = y * W + x;
      let d = gx[k] + gy[k];
      if (x > 0) d -= gx[k - 1];
      if (y > 0) d -= gy[k - W];
      const a = amp(k);
      if (a === 0) continue;
      numORe[k] += (mu * d * oRe[k]) / a;
      numOIm[k] += (mu * d * oIm[k]) / a;
    }
}
