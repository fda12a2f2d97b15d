/**
 * `recon.npz`: a job's stitched reconstruction on the ground-truth object's pixel grid,
 * numpy-readable — `recon` (H, W) complex64, `weight` (H, W) float32 (stitch weights; 0 =
 * no patch landed there), `xcoords` / `ycoords` (float64, where each patch was placed) and a
 * plain-JSON `_metadata` string (never a pickle).
 */
import { z } from 'zod';
import { StudyError } from '../../shared/errors';
import { type NdArray, toFloat64 } from '../data/ndarray';
import { readNpz, readNpzText, writeNpz } from '../data/npz';
import { type ComplexImage, complexFromInterleaved, complexToInterleaved, type RealImage, realImage } from './image';

export const ReconMeta = z
  .object({
    job_id: z.string(),
    stitch_crop_px: z.number().int(),
    n_patches: z.number().int(),
    created_at: z.string(),
    model_path: z.string().nullable(),
    model_mtime_ms: z.number().nullable(),
    convention: z.string(),
  })
  .passthrough();
export type ReconMeta = z.infer<typeof ReconMeta>;

export const PLACEMENT_CONVENTION = 'patch pixel (i, j) at object pixel (y - N/2 + i, x - N/2 + j)';

export interface ReconFile {
  recon: ComplexImage;
  weight: RealImage;
  xs: Float64Array;
  ys: Float64Array;
  meta: ReconMeta;
}

export async function writeReconFile(path: string, r: ReconFile): Promise<void> {
  const { height: h, width: w } = r.recon;
  const arrays: Record<string, NdArray> = {
    recon: { dtype: 'complex64', shape: [h, w], data: complexToInterleaved(r.recon) },
    weight: { dtype: 'float32', shape: [h, w], data: Float32Array.from(r.weight.data) },
    xcoords: { dtype: 'float64', shape: [r.xs.length], data: Float64Array.from(r.xs) },
    ycoords: { dtype: 'float64', shape: [r.ys.length], data: Float64Array.from(r.ys) },
  };
  await writeNpz(path, arrays, { text: { _metadata: JSON.stringify(r.meta) } });
}

export async function readReconFile(path: string): Promise<ReconFile> {
  const a = await readNpz(path, ['recon', 'weight', 'xcoords', 'ycoords']);
  const { recon, weight } = a;
  if (recon.dtype !== 'complex64' && recon.dtype !== 'complex128') {
    throw new StudyError('DATA_CONTRACT', 'recon must be complex', { file: path, key: 'recon', found: recon.dtype });
  }
  if (recon.shape.length !== 2 || weight.shape.join() !== recon.shape.join()) {
    throw new StudyError('DATA_CONTRACT', 'recon and weight must be 2-D arrays of one shape', {
      file: path,
      key: 'recon',
      found: { recon: recon.shape, weight: weight.shape },
    });
  }
  const [h, w] = recon.shape;
  let meta: ReconMeta;
  try {
    meta = ReconMeta.parse(JSON.parse(await readNpzText(path, '_metadata')));
  } catch (e) {
    throw new StudyError('DATA_CONTRACT', `recon metadata is unreadable: ${(e as Error).message}`, {
      file: path,
      key: '_metadata',
    });
  }
  return {
    recon: complexFromInterleaved(h, w, recon.data as Float32Array | Float64Array),
    weight: realImage(h, w, toFloat64(weight)),
    xs: Float64Array.from(toFloat64(a.xcoords)),
    ys: Float64Array.from(toFloat64(a.ycoords)),
    meta,
  };
}
