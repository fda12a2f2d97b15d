/**
 * Parameter + optimizer-state files. Layout: 8-byte magic "PTYSTAT1", u32 LE header length,
 * a JSON header (zod-checked on load), then each tensor's little-endian float32 bytes at an
 * 8-byte-aligned offset. Written atomically (temp file + rename).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { StudyError } from '../../shared/errors';
import { type StagedWrite, stageFileAtomic, writeFileAtomic } from '../data/atomic';

const MAGIC = 'PTYSTAT1';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface TrainingState {
  /** Updates applied so far (Adam's t of the last update). */
  step: number;
  optimizer: { name: string; config: Record<string, number> };
  /** Parameters by name. */
  params: Map<string, NamedArray>;
  /** Optimizer slots by stepNames.slot(slot, param) name. */
  slots: Map<string, NamedArray>;
  /** Free-form JSON the caller wants kept with the weights (epoch, lr, config …). */
  meta?: Record<string, unknown>;
}

const Header = z.object({
  format: z.literal('ptycho-study-state'),
  version: z.literal(1),
  step: z.number().int().nonnegative(),
  optimizer: z.object({ name: z.string(), config: z.record(z.string(), z.number()) }),
  meta: z.record(z.string(), z.unknown()).optional(),
  tensors: z.array(
    z.object({
      name: z.string(),
      group: z.enum(['param', 'slot']),
      dtype: z.literal('float32'),
      shape: z.array(z.number().int().nonnegative()),
      offset: z.number().int().nonnegative(),
    }),
  ),
});

/**
 * The file's bytes as a list of chunks: the magic, length and header (padded to 8 bytes),
 * then each tensor's own bytes as a view (zero-padded to 8 bytes where needed). Written as
 * they are, a 2.3 M-parameter Adam state (28 MB) is not copied into one buffer first.
 */
export function encodeStateChunks(state: TrainingState): Uint8Array[] {
  const entries = [
    ...[...state.params].map(([name, a]) => ({ name, group: 'param' as const, a })),
    ...[...state.slots].map(([name, a]) => ({ name, group: 'slot' as const, a })),
  ];
  let offset = 0;
  const tensors = entries.map((e) => {
    const t = { name: e.name, group: e.group, dtype: 'float32' as const, shape: e.a.shape, offset };
    offset += Math.ceil((e.a.data.length * 4) / 8) * 8;
    return t;
  });
  const header = new TextEncoder().encode(
    JSON.stringify({
      format: 'ptycho-study-state',
      version: 1,
      step: state.step,
      optimizer: state.optimizer,
      meta: state.meta,
      tensors,
    }),
  );
  const start = Math.ceil((12 + header.length) / 8) * 8;
  const head = new Uint8Array(start);
  head.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(head.buffer).setUint32(8, header.length, true);
  head.set(header, 12);
  const chunks: Uint8Array[] = [head];
  for (const e of entries) {
    const bytes = new Uint8Array(e.a.data.buffer, e.a.data.byteOffset, e.a.data.byteLength);
    chunks.push(bytes);
    const padding = Math.ceil(bytes.length / 8) * 8 - bytes.length;
    if (padding) chunks.push(new Uint8Array(padding));
  }
  return chunks;
}

/** The file's bytes in one buffer (encodeStateChunks joined). */
export function encodeState(state: TrainingState): Uint8Array {
  const chunks = encodeStateChunks(state);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function decodeState(bytes: Uint8Array, file = '<memory>'): TrainingState {
  const bad = (why: string) => new StudyError('BAD_INPUT', `not a training-state file: ${why}`, { file });
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw bad('wrong magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(8, true);
  if (12 + hlen > bytes.length) throw bad('truncated header');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    throw bad('header is not JSON');
  }
  const parsed = Header.safeParse(json);
  if (!parsed.success) throw bad(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const h = parsed.data;
  const start = Math.ceil((12 + hlen) / 8) * 8;
  const state: TrainingState = {
    step: h.step,
    optimizer: h.optimizer,
    params: new Map(),
    slots: new Map(),
    meta: h.meta,
  };
  for (const t of h.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const at = start + t.offset;
    if (at + n * 4 > bytes.length) throw bad(`tensor '${t.name}' runs past the end`);
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(bytes.subarray(at, at + n * 4));
    (t.group === 'param' ? state.params : state.slots).set(t.name, { shape: t.shape, data });
  }
  return state;
}

export async function saveState(path: string, state: TrainingState): Promise<void> {
  await writeFileAtomic(path, encodeStateChunks(state));
}

/** saveState in two halves (stageFileAtomic): the bytes are written when this returns, `commit()` flushes and renames. */
export function stageState(path: string, state: TrainingState): StagedWrite {
  return stageFileAtomic(path, encodeStateChunks(state));
}

export async function loadState(path: string): Promise<TrainingState> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new StudyError('NOT_FOUND', `cannot read training state: ${(e as Error).message}`, { file: path });
  }
  return decodeState(bytes, path);
}
