/**
 * Loading one study NPZ (Phase C/D output, or an original PtychoPINN file) into typed arrays
 * for training and evaluation, checked against DATA-001 at the edge.
 *
 * Accepts the original's variations: float64 diffraction (read as float32), complex128
 * (read as complex64), larger Y patches (cropped to the central N × N, the illuminated
 * patch), and a pickled `_metadata`, which is skipped with a warning and never unpickled.
 */
import { z } from 'zod';
import { StudyError } from '../../shared/errors';
import { CONTRACT_KEYS, type ContractIssue, type ContractOptions, checkContract } from './contract';
import { castFloat, type NdArray, toFloat64 } from './ndarray';
import { describeNpz, type NpzKeyInfo, readNpz, readNpzText } from './npz';

/** Metadata we read from `_metadata` (plain JSON); unknown fields are kept. */
export const StudyFileMetaSchema = z
  .object({
    dose: z.number().positive().optional(),
    intensity_scale: z.number().positive().optional(),
    N: z.number().int().optional(),
    seed: z.number().int().optional(),
    probe_diameter_px: z.number().positive().optional(),
    split: z.string().optional(),
    overlap_view: z.string().optional(),
  })
  .passthrough();
export type StudyFileMeta = z.infer<typeof StudyFileMetaSchema>;

export interface StudyFile {
  path: string;
  /** (M, N, N) float32 amplitudes, normalised as in the file (counts = (intensity_scale · d)²) */
  diffraction: NdArray;
  /** (M, N, N) complex64 ground-truth patches, when the file has them (cropped to N if larger) */
  Y?: NdArray;
  /** (N, N) complex64 */
  probeGuess: NdArray;
  /** (H, W) complex64 */
  objectGuess: NdArray;
  xcoords: Float64Array;
  ycoords: Float64Array;
  /** the original's `*_start` coordinates when present (equal to xcoords/ycoords in simulated data) */
  xcoordsStart?: Float64Array;
  ycoordsStart?: Float64Array;
  scanIndex?: Float64Array;
  N: number;
  M: number;
  meta: StudyFileMeta;
  /** non-fatal findings (pickled metadata skipped, float64 read as float32, Y cropped, …) */
  warnings: string[];
}

export interface LoadedNpz {
  keys: NpzKeyInfo[];
  arrays: Record<string, NdArray>;
  metadata?: Record<string, unknown>;
  /** contract key → the legacy key it was read from (e.g. diffraction ← diff3d) */
  aliases?: Record<string, string>;
}

/** Reads the contract keys, the metadata and every key's header (object arrays never decoded). */
export async function readStudyNpz(path: string): Promise<LoadedNpz> {
  const keys = await describeNpz(path);
  const wanted = keys
    .filter((k) => k.kind === 'numeric' && (CONTRACT_KEYS as readonly string[]).includes(k.key))
    .map((k) => k.key);
  const arrays = await readNpz(path, wanted);
  // the original's raw (pre-canonical) files call the patterns `diff3d`
  const legacy = keys.find((k) => k.key === 'diff3d' && k.kind === 'numeric');
  const aliases: Record<string, string> = {};
  if (!arrays.diffraction && legacy) {
    arrays.diffraction = (await readNpz(path, ['diff3d'])).diff3d;
    keys.push({ ...legacy, key: 'diffraction' });
    aliases.diffraction = 'diff3d';
  }
  let metadata: Record<string, unknown> | undefined;
  if (keys.find((k) => k.key === '_metadata')?.kind === 'text') {
    try {
      const parsed: unknown = JSON.parse(await readNpzText(path, '_metadata'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) metadata = parsed as Record<string, unknown>;
    } catch {
      metadata = undefined; // reported by the contract as a warning
    }
  }
  return { keys, arrays, metadata, aliases };
}

function contractError(errors: ContractIssue[]): StudyError {
  const first = errors[0];
  const more =
    errors.length > 1
      ? ` (+${errors.length - 1} more: ${errors
          .slice(1)
          .map((e) => e.rule)
          .join(', ')})`
      : '';
  return new StudyError('DATA_CONTRACT', `${first.message}${more}`, {
    file: first.file,
    key: first.key,
    found: first.found,
    expected: first.expected,
    hint: 'run `ptycho-study validate FILE` for the full report',
  });
}

function cropCentre(Y: NdArray, N: number): NdArray {
  const [M, P] = Y.shape;
  const c0 = (P - N) >> 1;
  const src = Y.data as Float32Array;
  const out = new Float32Array(M * N * N * 2);
  for (let j = 0; j < M; j++)
    for (let r = 0; r < N; r++) {
      const from = 2 * (j * P * P + (r + c0) * P + c0);
      out.set(src.subarray(from, from + 2 * N), 2 * (j * N * N + r * N));
    }
  return { dtype: 'complex64', shape: [M, N, N], data: out };
}

export interface LoadStudyFileOptions extends ContractOptions {
  /** called once per warning (default: collected in `warnings` only) */
  onWarning?: (message: string) => void;
}

/** Loads and checks a study NPZ; throws StudyError('DATA_CONTRACT') naming file, key, found, expected. */
export async function loadStudyFile(path: string, options: LoadStudyFileOptions = {}): Promise<StudyFile> {
  const loaded = await readStudyNpz(path);
  const issues = checkContract({ file: path, ...loaded }, options);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length) throw contractError(errors);
  const warnings = issues.filter((i) => i.severity === 'warning').map((i) => i.message);
  const a = loaded.arrays;
  const diffraction = castFloat(a.diffraction, 'float32');
  const [M, N] = diffraction.shape;
  let Y = a.Y ? castFloat(a.Y, 'complex64') : undefined;
  if (Y && Y.shape[1] > N) {
    warnings.push(`${path} [Y]: patches of ${Y.shape[1]} px cropped to the central ${N} × ${N}`);
    Y = cropCentre(Y, N);
  }
  const meta = StudyFileMetaSchema.safeParse(loaded.metadata ?? {});
  if (!meta.success) warnings.push(`${path} [_metadata]: ignored fields that do not fit: ${meta.error.message}`);
  for (const w of warnings) options.onWarning?.(w);
  return {
    path,
    diffraction,
    Y,
    probeGuess: castFloat(a.probeGuess, 'complex64'),
    objectGuess: castFloat(a.objectGuess, 'complex64'),
    xcoords: Float64Array.from(toFloat64(a.xcoords)),
    ycoords: Float64Array.from(toFloat64(a.ycoords)),
    xcoordsStart: a.xcoords_start ? Float64Array.from(toFloat64(a.xcoords_start)) : undefined,
    ycoordsStart: a.ycoords_start ? Float64Array.from(toFloat64(a.ycoords_start)) : undefined,
    scanIndex: a.scan_index ? Float64Array.from(toFloat64(a.scan_index)) : undefined,
    N,
    M,
    meta: meta.success ? meta.data : {},
    warnings,
  };
}
