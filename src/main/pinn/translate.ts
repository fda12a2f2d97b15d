/**
 * Sub-pixel translation as interpolation matrices, computed on the CPU from scan offsets.
 *
 * Moving an image by +t (content at i goes to i + t) with bilinear interpolation and zero
 * fill is separable: out = Sy · X · Sxᵀ with one L×L matrix per axis. Row i of S(t) holds
 * (1 − f) at column i + k and f at column i + k + 1, where k + f = −t (k integer, f ∈ [0,1)),
 * and columns outside the image are dropped (zero fill) — the four-corner bilinear weights
 * of TF's translate_xla done one axis at a time. The physics is linear in the object, so
 * its gradient is the transposed matrices; nothing about them is trained.
 *
 * Reassembly (gridsize > 1), per sample b, never mixing samples:
 *   canvas_b = Σ_c Ly_bc · O_bc · Lx_bcᵀ / (Σ_c Ly_bc · mask · Lx_bcᵀ + 0.001)
 *   patch_bc = Ey_bc · canvas_b · Ex_bcᵀ
 * with L = S(d)[:, p:p+N] (pad by p = (M − N)/2 then move by +d; M × N) and
 * E = S(−d)[p:p+N, :] (move by −d then keep the central N × N; N × M). mask is the central
 * N/2 square of ones (the original uses it even with the border branch on).
 */

export const NORM_EPS = 1e-3;

/** Canvas side M = N + (g − 1)·offset + max_position_jitter (offset 4, jitter 10). */
export function canvasSize(N: number, gridsize: number): number {
  return N + (gridsize - 1) * 4 + 10;
}

/**
 * Rows [r0, r0 + rows) and columns [c0, c0 + cols) of the L×L matrix S(t), written
 * row-major into `out` at `at` (which must hold zeros there).
 */
export function writeShiftBlock(
  out: Float32Array | Float64Array,
  at: number,
  L: number,
  t: number,
  r0: number,
  rows: number,
  c0: number,
  cols: number,
): void {
  const a = -t;
  const k = Math.floor(a);
  const f = a - k;
  for (let i = 0; i < rows; i++) {
    const row = r0 + i;
    const j0 = row + k;
    const j1 = j0 + 1;
    if (j0 >= 0 && j0 < L && j0 >= c0 && j0 < c0 + cols) out[at + i * cols + (j0 - c0)] += 1 - f;
    if (f !== 0 && j1 >= 0 && j1 < L && j1 >= c0 && j1 < c0 + cols) out[at + i * cols + (j1 - c0)] += f;
  }
}

/** Full L×L shift matrix (tests and CPU reference). */
export function shiftMatrix(L: number, t: number): Float64Array {
  const S = new Float64Array(L * L);
  writeShiftBlock(S, 0, L, t, 0, L, 0, L);
  return S;
}

export interface ReassemblyMatrices {
  B: number;
  C: number;
  N: number;
  M: number;
  /** Placement (B, C, M, N): rows of the canvas from rows of the patch (y axis). */
  ly: Float32Array;
  /** Placement (B, C, M, N) for the x axis (used transposed). */
  lx: Float32Array;
  /** Extraction (B, C, N, M), y axis. */
  ey: Float32Array;
  /** Extraction (B, C, N, M), x axis (used transposed). */
  ex: Float32Array;
  /** 1 / (overlap count + 0.001), (B, M, M). */
  invNorm: Float32Array;
}

/**
 * The matrices for one batch of groups; `offsets` is (B, C, 2) as (dx, dy).
 * Also used with B = 1 per sample by the reference implementation.
 */
export function reassemblyMatrices(
  offsets: ArrayLike<number>,
  B: number,
  C: number,
  N: number,
  M: number,
): ReassemblyMatrices {
  const p = (M - N) / 2;
  if (!Number.isInteger(p)) throw new RangeError(`canvas ${M} and patch ${N} must differ by an even number`);
  const ly = new Float32Array(B * C * M * N);
  const lx = new Float32Array(B * C * M * N);
  const ey = new Float32Array(B * C * N * M);
  const ex = new Float32Array(B * C * N * M);
  const invNorm = new Float32Array(B * M * M);
  const q = N / 4;
  const count = new Float64Array(M * M);
  const ry = new Float64Array(M);
  const rx = new Float64Array(M);
  for (let b = 0; b < B; b++) {
    count.fill(0);
    for (let c = 0; c < C; c++) {
      const i = b * C + c;
      const dx = offsets[i * 2];
      const dy = offsets[i * 2 + 1];
      writeShiftBlock(ly, i * M * N, M, dy, 0, M, p, N);
      writeShiftBlock(lx, i * M * N, M, dx, 0, M, p, N);
      writeShiftBlock(ey, i * N * M, M, -dy, p, N, 0, M);
      writeShiftBlock(ex, i * N * M, M, -dx, p, N, 0, M);
      // Overlap count of the central-N/2 mask: (Ly · mask · Lxᵀ) = (Ly 1_q)(Lx 1_q)ᵀ, an outer product.
      for (let r = 0; r < M; r++) {
        let sy = 0;
        let sx = 0;
        for (let j = q; j < N - q; j++) {
          sy += ly[i * M * N + r * N + j];
          sx += lx[i * M * N + r * N + j];
        }
        ry[r] = sy;
        rx[r] = sx;
      }
      for (let r = 0; r < M; r++) for (let s = 0; s < M; s++) count[r * M + s] += ry[r] * rx[s];
    }
    for (let k = 0; k < M * M; k++) invNorm[b * M * M + k] = 1 / (count[k] + NORM_EPS);
  }
  return { B, C, N, M, ly, lx, ey, ex, invNorm };
}

/** A · X · Bᵀ for row-major dense matrices: A (r × n), X (n × m), B (s × m) → (r × s). */
function sandwich(
  A: ArrayLike<number>,
  aAt: number,
  r: number,
  n: number,
  X: ArrayLike<number>,
  xAt: number,
  m: number,
  Bm: ArrayLike<number>,
  bAt: number,
  s: number,
): Float64Array {
  const t = new Float64Array(r * m);
  for (let i = 0; i < r; i++)
    for (let k = 0; k < n; k++) {
      const a = A[aAt + i * n + k];
      if (a === 0) continue;
      for (let j = 0; j < m; j++) t[i * m + j] += a * X[xAt + k * m + j];
    }
  const out = new Float64Array(r * s);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < s; j++) {
      let acc = 0;
      for (let k = 0; k < m; k++) acc += t[i * m + k] * Bm[bAt + j * m + k];
      out[i * s + j] = acc;
    }
  return out;
}

/**
 * CPU reference of reassembly + re-extraction for real patches (B, C, N, N): returns the
 * canvases (B, M, M) and the re-extracted patches (B, C, N, N). Complex objects go through
 * it twice (real and imaginary parts), as the physics is real-linear.
 */
export function reassembleAndExtract(
  patches: ArrayLike<number>,
  mats: ReassemblyMatrices,
): { canvas: Float64Array; extracted: Float64Array } {
  const { B, C, N, M } = mats;
  const canvas = new Float64Array(B * M * M);
  const extracted = new Float64Array(B * C * N * N);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      const i = b * C + c;
      const placed = sandwich(mats.ly, i * M * N, M, N, patches, i * N * N, N, mats.lx, i * M * N, M);
      for (let k = 0; k < M * M; k++) canvas[b * M * M + k] += placed[k];
    }
    for (let k = 0; k < M * M; k++) canvas[b * M * M + k] *= mats.invNorm[b * M * M + k];
    for (let c = 0; c < C; c++) {
      const i = b * C + c;
      const e = sandwich(mats.ey, i * N * M, N, M, canvas, b * M * M, M, mats.ex, i * N * M, N);
      extracted.set(e, i * N * N);
    }
  }
  return { canvas, extracted };
}
