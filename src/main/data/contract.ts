/**
 * DATA-001, the study's NPZ contract (PtychoPINN docs/data_contracts.md §1), as rules that
 * each report the file, the key, what was found and what was expected.
 *
 * The original validator only checked key presence, float/complex kinds and coordinate
 * counts; we also check shapes, finiteness, non-negativity, amplitude-vs-intensity and the
 * recorded dose, because those are the mistakes that silently ruin a training run.
 * `checkContract` is pure (arrays in, issues out); `validate.ts` feeds it from files.
 */
import type { NdArray } from './ndarray';
import type { NpzKeyInfo } from './npz';
import { expectedIntensity, physicsScratch } from './physics';

export type RuleId =
  | 'required-keys'
  | 'object-array'
  | 'unsupported-dtype'
  | 'metadata'
  | 'legacy-key'
  | 'diffraction-dtype'
  | 'diffraction-shape'
  | 'empty'
  | 'probe-dtype'
  | 'probe-shape'
  | 'object-dtype'
  | 'object-shape'
  | 'coords-dtype'
  | 'coords-length'
  | 'y-dtype'
  | 'y-shape'
  | 'scan-index'
  | 'finite'
  | 'diffraction-negative'
  | 'probe-energy'
  | 'amplitude-not-intensity'
  | 'dose-consistency'
  | 'coords-in-object'
  | 'oversampling'
  | 'unreadable';

export type Severity = 'error' | 'warning';

export interface ContractIssue {
  rule: RuleId;
  severity: Severity;
  file: string;
  key?: string;
  message: string;
  found?: unknown;
  expected?: unknown;
}

/** What a file holds: every key's header, the numeric arrays read, and the parsed metadata. */
export interface ContractInput {
  file: string;
  keys: NpzKeyInfo[];
  arrays: Record<string, NdArray>;
  /** `_metadata` parsed from JSON (undefined when absent, pickled or not JSON) */
  metadata?: Record<string, unknown>;
  /** contract keys that were read under a legacy name (diffraction ← diff3d) */
  aliases?: Record<string, string>;
}

export interface ContractOptions {
  /** gridsize the file will be trained with (OVERSAMPLING-001 check when > 1) */
  gridsize?: number;
  /** neighbour count K used to form groups */
  neighborCount?: number;
  /** run the far-field amplitude-vs-intensity comparison (a few FFTs); default true */
  physicsCheck?: boolean;
}

export const REQUIRED_KEYS = ['diffraction', 'objectGuess', 'probeGuess', 'xcoords', 'ycoords'] as const;
/** Keys whose arrays the contract reads (others are reported only by header). */
export const CONTRACT_KEYS = [...REQUIRED_KEYS, 'Y', 'xcoords_start', 'ycoords_start', 'scan_index'] as const;

const fmtShape = (s: readonly number[]) => `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;

type Add = (
  rule: RuleId,
  severity: Severity,
  key: string | undefined,
  message: string,
  found?: unknown,
  expected?: unknown,
) => void;

/**
 * What the rules share: the input, a reporter, and what earlier rules learned (the pattern
 * count M and size N from a well-formed diffraction stack; the complex arrays that passed
 * their dtype rule). Rules run in a fixed order, so issues are listed in that order.
 */
interface RuleContext {
  input: ContractInput;
  options: ContractOptions;
  arrays: Record<string, NdArray>;
  info: Map<string, NpzKeyInfo>;
  add: Add;
  M?: number;
  N?: number;
  probe?: NdArray;
  obj?: NdArray;
  Y?: NdArray;
}

type Rule = (c: RuleContext) => void;

const isFloatData = (a: NdArray | undefined): a is NdArray =>
  !!a && (a.data instanceof Float32Array || a.data instanceof Float64Array);

/** DATA-001's five keys are present. */
const requiredKeys: Rule = ({ info, add }) => {
  const missing = REQUIRED_KEYS.filter((k) => !info.has(k));
  if (missing.length)
    add(
      'required-keys',
      'error',
      missing.join(','),
      `missing required NPZ keys (DATA-001): ${missing.join(', ')}`,
      [...info.keys()],
      [...REQUIRED_KEYS],
    );
};

/** Keys that cannot be read at all: pickled objects, unsupported dtypes, strings where numbers belong. */
const readableKeys: Rule = ({ input, add }) => {
  for (const k of input.keys) {
    if (k.kind === 'object') {
      if (k.key === '_metadata')
        add(
          'object-array',
          'warning',
          k.key,
          'pickled metadata skipped (never unpickled); store metadata as a plain JSON string',
          k.descr,
          "a numpy string ('<U…')",
        );
      else
        add(
          'object-array',
          'error',
          k.key,
          'is a pickled object array; only plain arrays are read',
          k.descr,
          'numeric',
        );
    } else if (k.kind === 'unsupported')
      add(
        'unsupported-dtype',
        (CONTRACT_KEYS as readonly string[]).includes(k.key) ? 'error' : 'warning',
        k.key,
        `has unsupported dtype ${k.descr}`,
        k.descr,
        'float32/64, complex64/128, int32/64, uint8, bool',
      );
    else if (k.kind === 'text' && (CONTRACT_KEYS as readonly string[]).includes(k.key))
      add('diffraction-dtype', 'error', k.key, `holds strings (${k.descr}), not numbers`, k.descr, 'numeric');
  }
};

/** Contract keys read under the original's raw names (diffraction ← diff3d). */
const legacyKeys: Rule = ({ input, add }) => {
  for (const [key, legacy] of Object.entries(input.aliases ?? {}))
    add('legacy-key', 'warning', key, `read from the original's raw key '${legacy}'`, legacy, key);
};

/** `_metadata`, when a string, is a JSON object. */
const metadataIsJson: Rule = ({ input, info, add }) => {
  if (info.get('_metadata')?.kind === 'text' && input.metadata === undefined)
    add('metadata', 'warning', '_metadata', 'is not a JSON object; ignored', 'text', 'JSON object');
};

/** diffraction is float (M, N, N) with N even and M ≥ 1; sets M and N for the rules after it. */
const diffractionStack: Rule = (c) => {
  const { add } = c;
  const d = c.arrays.diffraction;
  if (!d) return;
  if (d.dtype === 'float64')
    add('diffraction-dtype', 'warning', 'diffraction', 'is float64; it is read as float32', d.dtype, 'float32');
  else if (d.dtype !== 'float32')
    add('diffraction-dtype', 'error', 'diffraction', `must be float amplitudes, found ${d.dtype}`, d.dtype, 'float32');
  if (d.shape.length !== 3 || d.shape[1] !== d.shape[2] || d.shape[1] < 2) {
    add(
      'diffraction-shape',
      'error',
      'diffraction',
      `must be (M, N, N), found ${fmtShape(d.shape)}`,
      fmtShape(d.shape),
      '(M, N, N)',
    );
    return;
  }
  c.M = d.shape[0];
  c.N = d.shape[1];
  if (c.N % 2 !== 0)
    add(
      'diffraction-shape',
      'error',
      'diffraction',
      `N must be even (fftshift centre at N/2), found N = ${c.N}`,
      c.N,
      'even',
    );
  if (c.M === 0) add('empty', 'error', 'diffraction', 'holds no patterns', 0, 'M ≥ 1');
};

/** A complex key's dtype (complex128 is read as complex64); the array when it is usable. */
function complexArray(c: RuleContext, key: string, rule: RuleId): NdArray | undefined {
  const a = c.arrays[key];
  if (!a) return undefined;
  if (a.dtype === 'complex128')
    c.add(rule, 'warning', key, 'is complex128; it is read as complex64', a.dtype, 'complex64');
  else if (a.dtype !== 'complex64') {
    c.add(rule, 'error', key, `must be complex, found ${a.dtype}`, a.dtype, 'complex64');
    return undefined;
  }
  return a;
}

/** probeGuess is complex (N, N), the patterns' size. */
const probeArray: Rule = (c) => {
  const { N } = c;
  const probe = complexArray(c, 'probeGuess', 'probe-dtype');
  c.probe = probe;
  if (probe && N !== undefined && (probe.shape.length !== 2 || probe.shape[0] !== N || probe.shape[1] !== N))
    c.add(
      'probe-shape',
      'error',
      'probeGuess',
      `must be (N, N) = (${N}, ${N}) like the diffraction patterns, found ${fmtShape(probe.shape)}`,
      fmtShape(probe.shape),
      `(${N}, ${N})`,
    );
};

/** objectGuess is a complex 2-D image at least N × N. */
const objectArray: Rule = (c) => {
  const { N } = c;
  const obj = complexArray(c, 'objectGuess', 'object-dtype');
  c.obj = obj;
  if (obj && (obj.shape.length !== 2 || (N !== undefined && (obj.shape[0] < N || obj.shape[1] < N))))
    c.add(
      'object-shape',
      'error',
      'objectGuess',
      `must be a 2-D (H, W) image at least N × N, found ${fmtShape(obj.shape)}`,
      fmtShape(obj.shape),
      N === undefined ? '(H, W)' : `(H ≥ ${N}, W ≥ ${N})`,
    );
};

/** Coordinates are float64 (M,). */
const coordinateArrays: Rule = ({ arrays, M, add }) => {
  for (const key of ['xcoords', 'ycoords', 'xcoords_start', 'ycoords_start']) {
    const a = arrays[key];
    if (!a) continue;
    if (a.dtype === 'float32')
      add('coords-dtype', 'warning', key, 'is float32; positions are read as float64', a.dtype, 'float64');
    else if (a.dtype !== 'float64')
      add('coords-dtype', 'error', key, `must be float pixel positions, found ${a.dtype}`, a.dtype, 'float64');
    if (a.shape.length !== 1 || (M !== undefined && a.shape[0] !== M))
      add(
        'coords-length',
        'error',
        key,
        `${key} length ${fmtShape(a.shape)} != diffraction first axis ${M ?? '?'}`,
        fmtShape(a.shape),
        M === undefined ? '(M,)' : `(${M},)`,
      );
  }
};

/** Y, when present, is complex (M, P, P) with P ≥ N. */
const yArray: Rule = (c) => {
  const { M, N } = c;
  const Y = complexArray(c, 'Y', 'y-dtype');
  c.Y = Y;
  if (
    Y &&
    (Y.shape.length !== 3 ||
      Y.shape[1] !== Y.shape[2] ||
      (M !== undefined && Y.shape[0] !== M) ||
      (N !== undefined && Y.shape[1] < N))
  )
    c.add(
      'y-shape',
      'error',
      'Y',
      `must be (M, P, P) with P ≥ N, found ${fmtShape(Y.shape)}`,
      fmtShape(Y.shape),
      M !== undefined && N !== undefined ? `(${M}, P ≥ ${N}, P)` : '(M, P, P)',
    );
};

/** scan_index, when present, is integer (M,). */
const scanIndex: Rule = ({ arrays, M, add }) => {
  const si = arrays.scan_index;
  if (
    si &&
    (!['int32', 'int64', 'uint8'].includes(si.dtype) || si.shape.length !== 1 || (M !== undefined && si.shape[0] !== M))
  )
    add(
      'scan-index',
      'error',
      'scan_index',
      `must be integer (M,), found ${si.dtype} ${fmtShape(si.shape)}`,
      `${si.dtype} ${fmtShape(si.shape)}`,
      `int (${M ?? 'M'},)`,
    );
};

/** No NaN or Inf in the arrays training reads. */
const finiteValues: Rule = ({ arrays, add }) => {
  for (const key of ['diffraction', 'Y', 'probeGuess', 'objectGuess', 'xcoords', 'ycoords']) {
    const a = arrays[key];
    if (!isFloatData(a)) continue;
    let bad = 0;
    let first = -1;
    for (let i = 0; i < a.data.length; i++)
      if (!Number.isFinite(a.data[i])) {
        if (first < 0) first = i;
        bad++;
      }
    if (bad)
      add(
        'finite',
        'error',
        key,
        `has ${bad} non-finite values (first at flat index ${first})`,
        `${bad} NaN/Inf`,
        'all finite',
      );
  }
};

/** Amplitudes are never negative. */
const nonNegativeDiffraction: Rule = ({ arrays, add }) => {
  const d = arrays.diffraction;
  if (!isFloatData(d)) return;
  const v = d.data as Float32Array | Float64Array;
  let neg = 0;
  let min = 0;
  for (let i = 0; i < v.length; i++)
    if (v[i] < 0) {
      neg++;
      min = Math.min(min, v[i]);
    }
  if (neg)
    add(
      'diffraction-negative',
      'error',
      'diffraction',
      `has ${neg} negative values (min ${min}); amplitudes are ≥ 0`,
      min,
      '≥ 0',
    );
};

/** The probe illuminates something. */
const probeHasEnergy: Rule = ({ probe, add }) => {
  if (probe?.data.every((v) => v === 0))
    add(
      'probe-energy',
      'error',
      'probeGuess',
      'is zero everywhere: nothing is illuminated',
      'all zeros',
      'a probe with energy',
    );
};

/** The recorded dose agrees with the data: mean (s·d)² is within a factor 3 of it. */
const recordedDoseMatches: Rule = ({ arrays, M, N, input, add }) => {
  const d = arrays.diffraction;
  const meta = input.metadata;
  if (!(isFloatData(d) && M && N)) return;
  const dose = typeof meta?.dose === 'number' ? meta.dose : undefined;
  const s = typeof meta?.intensity_scale === 'number' ? meta.intensity_scale : undefined;
  if (dose === undefined || s === undefined || !(dose > 0) || !(s > 0)) return;
  const v = d.data as Float32Array | Float64Array;
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  const meanCounts = (sum * s * s) / M;
  if (!(meanCounts > dose / 3 && meanCounts < dose * 3))
    add(
      'dose-consistency',
      'error',
      'diffraction',
      `(intensity_scale · diffraction)² averages ${meanCounts.toPrecision(4)} photons per pattern but the recorded dose is ${dose}; diffraction must hold amplitudes sqrt(counts) / intensity_scale`,
      meanCounts,
      dose,
    );
};

/**
 * diffraction holds amplitudes, not intensities. Two independent signs, each used only when
 * it is clear: integer counts (intensities are integers whose square roots mostly are not),
 * and the physics (with Y and the probe, d² — not d — must follow |F(P·Y)|²).
 */
const amplitudeNotIntensity: Rule = (c) => {
  const d = c.arrays.diffraction;
  if (!(isFloatData(d) && c.M && c.N)) return;
  if (looksLikeCounts(d.data as Float32Array | Float64Array, c.add)) return;
  if (c.options.physicsCheck === false) return;
  followsFarField(d.data as Float32Array | Float64Array, c.M, c.N, c.Y, c.probe, c.add);
};

/** Scan positions keep the N × N patch inside objectGuess (centres at least N/2 from the edge). */
const positionsInObject: Rule = ({ arrays, obj, M, N, add }) => {
  const xs = arrays.xcoords;
  const ys = arrays.ycoords;
  if (!(obj && obj.shape.length === 2 && N && xs && ys && xs.shape[0] === M && ys.shape[0] === M)) return;
  const [H, W] = obj.shape;
  let outside = 0;
  for (let j = 0; j < (M ?? 0); j++) {
    const x = Number(xs.data[j]);
    const y = Number(ys.data[j]);
    if (x < N / 2 || y < N / 2 || x > W - N / 2 || y > H - N / 2) outside++;
  }
  if (outside)
    add(
      'coords-in-object',
      'warning',
      'xcoords',
      `${outside} of ${M} scan positions put the N × N patch outside objectGuess (${H} × ${W})`,
      outside,
      `positions in [${N / 2}, W − ${N / 2}] × [${N / 2}, H − ${N / 2}]`,
    );
};

/** OVERSAMPLING-001: groups of gridsize² need at least that many neighbours. */
const enoughNeighbours: Rule = ({ options, add }) => {
  if ((options.gridsize ?? 1) <= 1) return;
  const C = (options.gridsize ?? 1) ** 2;
  if (options.neighborCount === undefined || options.neighborCount < C)
    add(
      'oversampling',
      'error',
      undefined,
      `gridsize ${options.gridsize} needs neighbor_count ≥ gridsize² = ${C} (OVERSAMPLING-001)`,
      options.neighborCount ?? null,
      `≥ ${C}`,
    );
};

/** The rules in the order they run (later ones use what earlier ones established). */
const RULES: readonly Rule[] = [
  requiredKeys,
  readableKeys,
  legacyKeys,
  metadataIsJson,
  diffractionStack,
  probeArray,
  objectArray,
  coordinateArrays,
  yArray,
  scanIndex,
  finiteValues,
  nonNegativeDiffraction,
  probeHasEnergy,
  recordedDoseMatches,
  amplitudeNotIntensity,
  positionsInObject,
  enoughNeighbours,
];

export function checkContract(input: ContractInput, options: ContractOptions = {}): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const { file } = input;
  const add: Add = (rule, severity, key, message, found, expected) => {
    issues.push({
      rule,
      severity,
      file,
      key,
      message: `${file}${key ? ` [${key}]` : ''}: ${message}`,
      found,
      expected,
    });
  };
  const context: RuleContext = {
    input,
    options,
    arrays: input.arrays,
    info: new Map(input.keys.map((k) => [k.key, k])),
    add,
  };
  for (const rule of RULES) rule(context);
  return issues;
}

function variance(a: Float64Array): number {
  let m = 0;
  for (const x of a) m += x;
  m /= a.length;
  let s = 0;
  for (const x of a) s += (x - m) ** 2;
  return s / a.length;
}

/** Pearson correlation of two equal-length sequences. */
function correlation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Integer values whose square roots are mostly not integers are photon counts: reported, true. */
function looksLikeCounts(v: Float32Array | Float64Array, add: Add): boolean {
  let allInteger = true;
  let max = 0;
  let nonSquare = 0;
  let above1 = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x !== Math.floor(x)) {
      allInteger = false;
      break;
    }
    if (x > max) max = x;
    if (x > 1) {
      above1++;
      const r = Math.round(Math.sqrt(x));
      if (r * r !== x) nonSquare++;
    }
  }
  if (allInteger && max > 1 && nonSquare > 0.5 * above1) {
    add(
      'amplitude-not-intensity',
      'error',
      'diffraction',
      `holds integer values up to ${max} whose square roots are mostly not integers: these look like photon counts (intensity); store amplitudes sqrt(counts)`,
      'integer counts',
      'amplitudes (sqrt of intensity)',
    );
    return true;
  }
  return false;
}

/**
 * With Y and the probe: the binned mean d² against |F(P·Y)|² on a log-log scale has slope 1
 * for amplitudes and 1.2–2 for intensities; a clear slope above 1.15 is reported.
 */
function followsFarField(
  v: Float32Array | Float64Array,
  M: number,
  N: number,
  Y: NdArray | undefined,
  probe: NdArray | undefined,
  add: Add,
): void {
  if (!Y || !probe || Y.shape.length !== 3 || Y.shape[0] !== M || Y.shape[1] < N) return;
  if (probe.shape[0] !== N || probe.shape[1] !== N) return;
  // sample up to 32 patterns; crop Y to its central N × N (the original wrote larger patches)
  const P = Y.shape[1];
  const c0 = (P - N) >> 1;
  const picks = Math.min(M, 32);
  const scratch = physicsScratch(N);
  const patch = new Float64Array(2 * N * N);
  const I = new Float64Array(N * N);
  // mean d² against mean |F(P·Y)|² in bins of equal count, log-log: Poisson counts have a
  // mean proportional to the intensity at every dose, so amplitudes give slope 1 exactly; for
  // intensities E[d²] ∝ λ + λ² gives a slope between 1 and 2 (1.6 at dose 1e3, 1.24 at 1e2),
  // which per-pixel logs (mostly counts of 0 and 1 at a low dose) could not see.
  const pts: { i: number; d2: number }[] = [];
  const yd = Y.data as Float32Array | Float64Array;
  for (let t = 0; t < picks; t++) {
    const j = Math.floor((t * M) / picks);
    for (let r = 0; r < N; r++)
      for (let c = 0; c < N; c++) {
        const src = 2 * (j * P * P + (r + c0) * P + c + c0);
        patch[2 * (r * N + c)] = yd[src];
        patch[2 * (r * N + c) + 1] = yd[src + 1];
      }
    expectedIntensity(patch, 0, probe.data as Float32Array | Float64Array, I, scratch);
    let peak = 0;
    for (let i = 0; i < N * N; i++) peak = Math.max(peak, I[i]);
    for (let i = 0; i < N * N; i++) {
      const x = v[j * N * N + i];
      if (I[i] >= 1e-3 * peak && Number.isFinite(x)) pts.push({ i: I[i], d2: x * x });
    }
  }
  const BINS = 16;
  if (pts.length < BINS * 8) return;
  pts.sort((a, b) => a.i - b.i);
  const lx: number[] = [];
  const ly: number[] = [];
  for (let b = 0; b < BINS; b++) {
    const lo = Math.floor((b * pts.length) / BINS);
    const hi = Math.floor(((b + 1) * pts.length) / BINS);
    let si = 0;
    let sd = 0;
    for (let k = lo; k < hi; k++) {
      si += pts[k].i;
      sd += pts[k].d2;
    }
    if (si > 0 && sd > 0) {
      lx.push(Math.log(si / (hi - lo)));
      ly.push(Math.log(sd / (hi - lo)));
    }
  }
  if (lx.length < BINS / 2) return;
  const fx = Float64Array.from(lx);
  const fy = Float64Array.from(ly);
  const r = correlation(fx, fy);
  const slope = r * Math.sqrt(variance(fy) / variance(fx));
  if (r > 0.95 && slope > 1.15)
    add(
      'amplitude-not-intensity',
      'error',
      'diffraction',
      `grows faster than |F(P·Y)|² (log-log slope of the binned mean d² is ${slope.toFixed(2)}, r = ${r.toFixed(3)}; amplitudes give 1, intensities 1.2–2 by dose): it holds intensities; store amplitudes sqrt(counts)`,
      `slope ${slope.toFixed(2)}`,
      'slope 1 (d² proportional to |F(P·Y)|²)',
    );
}
