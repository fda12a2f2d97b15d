/**
 * Reconstruction previews during training: after each epoch, the network's object patch
 * (amplitude and phase) at the first scan point of one fixed group (the first validation
 * group, else the first group), beside the true patch there when the data have one, as a small
 * PNG of raw pixels — one tile per panel, side by side, 1 px per pixel (the UI scales it
 * with nearest-neighbour) — written atomically to `previews/epoch_<n>.png` in the job's
 * folder. `previews/preview.json` says which group and which panels (the same every epoch).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { JobPreview, ListJobPreviewsOutput, ReadJobPreviewOutput } from '../../shared/study-api';
import { StudyError } from '../../shared/errors';
import type { StudyFile } from '../data/study-file';
import type { TrainingData } from '../pinn/dataset';
import { writeFileAtomicSync } from '../data/atomic';
import { PNG } from 'pngjs';
import { type Canvas, createCanvas, setPixel } from '../eval/render/canvas';
import { colorAt } from '../eval/render/colormap';
import { readEventsFrom } from './attempts';

export const PREVIEWS_DIR = 'previews';
export const PREVIEW_INDEX_FILE = 'preview.json';

export const PreviewIndex = z.object({
  group: z.number().int().nonnegative(),
  panels: z.array(z.string()),
  /** Pixels per tile side, and the gap between tiles. */
  tile: z.number().int().positive(),
  gap: z.number().int().nonnegative(),
});
export type PreviewIndex = z.infer<typeof PreviewIndex>;

export function previewFile(epoch: number): string {
  return `${PREVIEWS_DIR}/epoch_${epoch}.png`;
}

/** RGB without alpha at the strongest deflate: a quarter smaller than the figures' RGBA. */
function encodeRgbPng(c: Canvas): Buffer {
  const png = new PNG({ width: c.width, height: c.height });
  png.data = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true, deflateLevel: 9 });
}

/** One square field, row-major. */
export interface PreviewField {
  data: Float32Array | Float64Array;
  size: number;
}

export interface PreviewImages {
  amplitude: PreviewField;
  phase: PreviewField;
  trueAmplitude?: PreviewField;
  truePhase?: PreviewField;
}

const GAP = 2;

function drawTile(c: Canvas, x0: number, f: PreviewField, colour: (v: number) => [number, number, number]): void {
  for (let y = 0; y < f.size; y++)
    for (let x = 0; x < f.size; x++) setPixel(c, x0 + x, y, colour(f.data[y * f.size + x]));
}

function maxOf(f: PreviewField | undefined): number {
  let m = 0;
  if (f) for (const v of f.data) if (Number.isFinite(v) && v > m) m = v;
  return m;
}

/**
 * Amplitude on viridis from 0 to the larger of the truth's and the prediction's maximum (one
 * scale for both, so they compare), phase on the cyclic twilight map over [−π, π).
 */
export function renderPreview(images: PreviewImages): { png: Buffer; panels: string[]; width: number; height: number } {
  const n = images.amplitude.size;
  const tiles: { field: PreviewField; name: string; kind: 'amp' | 'phase' }[] = [
    { field: images.amplitude, name: 'amplitude', kind: 'amp' },
    { field: images.phase, name: 'phase', kind: 'phase' },
  ];
  if (images.trueAmplitude && images.truePhase) {
    tiles.push({ field: images.trueAmplitude, name: 'true amplitude', kind: 'amp' });
    tiles.push({ field: images.truePhase, name: 'true phase', kind: 'phase' });
  }
  const ampMax = Math.max(maxOf(images.amplitude), maxOf(images.trueAmplitude)) || 1;
  const width = tiles.length * n + (tiles.length - 1) * GAP;
  const c = createCanvas(width, n, [255, 255, 255]);
  tiles.forEach((t, k) => {
    const colour =
      t.kind === 'amp'
        ? (v: number) => colorAt('viridis', Number.isFinite(v) ? Math.min(1, Math.max(0, v / ampMax)) : 0)
        : (v: number) => {
            const u = (v + Math.PI) / (2 * Math.PI);
            return colorAt('twilight', Number.isFinite(u) ? u - Math.floor(u) : 0);
          };
    drawTile(c, k * (n + GAP), t.field, colour);
  });
  return { png: encodeRgbPng(c), panels: tiles.map((t) => t.name), width, height: n };
}

/**
 * The true object patch at the group's first scan point (the file's Y there), as the
 * preview's amplitude and phase; none without Y.
 */
export function previewTruthOf(
  file: Pick<StudyFile, 'Y'>,
  data: Pick<TrainingData, 'N' | 'C' | 'groups'>,
  group: number,
): Pick<PreviewImages, 'trueAmplitude' | 'truePhase'> {
  const N = data.N;
  if (!file.Y || file.Y.shape[1] !== N || file.Y.shape[2] !== N) return {};
  const point = data.groups.indices[group * data.C];
  const y = file.Y.data as Float32Array | Float64Array;
  const amplitude = new Float32Array(N * N);
  const phase = new Float32Array(N * N);
  const base = point * N * N * 2;
  for (let i = 0; i < N * N; i++) {
    const re = y[base + 2 * i];
    const im = y[base + 2 * i + 1];
    amplitude[i] = Math.hypot(re, im);
    phase[i] = Math.atan2(im, re);
  }
  return { trueAmplitude: { data: amplitude, size: N }, truePhase: { data: phase, size: N } };
}

/** Write one epoch's preview (and the index on the first); returns its path relative to the job folder. */
export function writePreview(
  artifactDir: string,
  epoch: number,
  group: number,
  images: PreviewImages,
): { file: string; bytes: number; width: number; height: number } {
  const r = renderPreview(images);
  const dir = join(artifactDir, PREVIEWS_DIR);
  mkdirSync(dir, { recursive: true });
  const indexPath = join(dir, PREVIEW_INDEX_FILE);
  const index: PreviewIndex = { group, panels: r.panels, tile: images.amplitude.size, gap: GAP };
  writeFileAtomicSync(indexPath, `${JSON.stringify(index, null, 2)}\n`);
  const file = previewFile(epoch);
  writeFileAtomicSync(join(artifactDir, file), r.png);
  return { file, bytes: r.png.length, width: r.width, height: r.height };
}

function readIndex(artifactDir: string): PreviewIndex | null {
  const p = join(artifactDir, PREVIEWS_DIR, PREVIEW_INDEX_FILE);
  if (!existsSync(p)) return null;
  try {
    return PreviewIndex.parse(JSON.parse(readFileSync(p, 'utf8')));
  } catch {
    return null;
  }
}

/** The previews on disk, oldest epoch first, with step and time from the job's preview events. */
export function listPreviews(artifactDir: string, eventsPath: string): ListJobPreviewsOutput {
  const dir = join(artifactDir, PREVIEWS_DIR);
  const index = readIndex(artifactDir);
  if (!existsSync(dir)) return { previews: [], group: null, panels: [] };
  const seen = new Map<number, { step: number; time: string }>();
  for (const e of readEventsFrom(eventsPath, 0, ['preview']).events)
    if (e.type === 'preview') seen.set(e.epoch, { step: e.step, time: e.time });
  const previews: JobPreview[] = [];
  for (const name of readdirSync(dir)) {
    const m = /^epoch_(\d+)\.png$/.exec(name);
    if (!m) continue;
    const epoch = Number(m[1]);
    const ev = seen.get(epoch);
    previews.push({
      epoch,
      step: ev?.step ?? null,
      file: `${PREVIEWS_DIR}/${name}`,
      bytes: statSync(join(dir, name)).size,
      time: ev?.time ?? null,
    });
  }
  previews.sort((a, b) => a.epoch - b.epoch);
  return { previews, group: index?.group ?? null, panels: index?.panels ?? [] };
}

/** One preview as base64 PNG; the latest without `epoch`. */
export function readPreview(artifactDir: string, eventsPath: string, epoch?: number): ReadJobPreviewOutput {
  const { previews } = listPreviews(artifactDir, eventsPath);
  const p = epoch === undefined ? previews.at(-1) : previews.find((x) => x.epoch === epoch);
  if (!p) {
    throw new StudyError(
      'NOT_FOUND',
      epoch === undefined ? 'this job has no preview yet' : `no preview for epoch ${epoch}`,
      {
        file: join(artifactDir, epoch === undefined ? PREVIEWS_DIR : previewFile(epoch)),
        expected: previews.map((x) => x.epoch),
      },
    );
  }
  const png = readFileSync(join(artifactDir, p.file));
  // IHDR: width and height are the big-endian words at bytes 16 and 20
  return {
    ...p,
    mime: 'image/png',
    base64: png.toString('base64'),
    width: png.readUInt32BE(16),
    height: png.readUInt32BE(20),
  };
}
