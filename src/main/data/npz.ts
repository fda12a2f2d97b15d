/**
 * numpy-compatible .npz archives (np.savez / np.savez_compressed): a zip of `<key>.npy`.
 *
 * Reading opens the central directory and decompresses only the requested entries, each
 * straight into a buffer of its final size. Writing is deterministic (fixed timestamps,
 * key order as given) and atomic (temp file + rename).
 */
import { open } from 'node:fs/promises';
import { StudyError } from '../../shared/errors';
import { writeFileAtomic } from './atomic';
import { checkMemory } from './memory';
import { readFailure } from './read-file';
import { describeArray, type NdArray } from './ndarray';
import {
  decodeNpyParts,
  decodeNpyText,
  encodeNpyParts,
  encodeNpyText,
  type NpyHeader,
  npyHeaderLength,
  parseNpyHeader,
} from './npy';
import { readZipDirectory, readZipEntry, readZipEntryPrefix, readZipEntrySplit, type ZipEntry, zipChunks } from './zip';

/** What one key of an archive holds, read from its .npy header only. */
export interface NpzKeyInfo {
  key: string;
  /** numpy's descr, e.g. '<f4', '<c8', '|O' */
  descr: string;
  shape: number[];
  fortranOrder: boolean;
  kind: NpyHeader['kind']['kind'];
  /** numeric dtype when kind is 'numeric' */
  dtype?: NdArray['dtype'];
  compressed: boolean;
  bytes: number;
}

async function withArchive<T>(
  path: string,
  fn: (fh: import('node:fs/promises').FileHandle, entries: Map<string, ZipEntry>) => Promise<T>,
): Promise<T> {
  let fh: import('node:fs/promises').FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StudyError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'NPZ_FORMAT',
      `cannot open ${path}: ${(e as Error).message}`,
      {
        file: path,
      },
    );
  }
  try {
    const entries = new Map<string, ZipEntry>();
    for (const e of await readZipDirectory(fh, path)) if (e.name.endsWith('.npy')) entries.set(e.name.slice(0, -4), e);
    return await fn(fh, entries);
  } catch (e) {
    // a read error of an open file (EISDIR for a folder, EIO) carries no path of its own
    if (!(e instanceof StudyError) && (e as NodeJS.ErrnoException).code) throw readFailure(path, e);
    throw e;
  } finally {
    await fh.close();
  }
}

function missing(path: string, key: string, entries: Map<string, ZipEntry>): StudyError {
  return new StudyError('DATA_CONTRACT', `${path} has no key '${key}'`, {
    file: path,
    key,
    found: [...entries.keys()],
    expected: key,
  });
}

/** The keys of an archive (entry names without `.npy`), in archive order. */
export async function listNpzKeys(path: string): Promise<string[]> {
  return withArchive(path, async (_fh, entries) => [...entries.keys()]);
}

/** dtype/shape of every key (or the given ones) without reading the array data. */
export async function describeNpz(path: string, keys?: readonly string[]): Promise<NpzKeyInfo[]> {
  return withArchive(path, async (fh, entries) => {
    const out: NpzKeyInfo[] = [];
    for (const key of keys ?? [...entries.keys()]) {
      const entry = entries.get(key);
      if (!entry) throw missing(path, key, entries);
      const head = await readZipEntryPrefix(fh, entry, path, (b) => npyHeaderLength(b) ?? 12);
      const h = parseNpyHeader(head, { file: path, key });
      out.push({
        key,
        descr: h.descr,
        shape: h.shape,
        fortranOrder: h.fortranOrder,
        kind: h.kind.kind,
        dtype: h.kind.kind === 'numeric' ? h.kind.dtype : undefined,
        compressed: entry.method !== 0,
        bytes: entry.uncompressedSize,
      });
    }
    return out;
  });
}

/**
 * Reads numeric arrays. With `keys`, exactly those (a missing key is an error). Without,
 * every numeric key; string keys (e.g. a JSON `_metadata`) are left to `readNpzText`, and an
 * object (pickled) array anywhere is refused, naming the key.
 */
export async function readNpz(path: string, keys?: readonly string[]): Promise<Record<string, NdArray>> {
  return withArchive(path, async (fh, entries) => {
    const out: Record<string, NdArray> = {};
    const wanted = keys ?? [...entries.keys()];
    // every array read stays in memory together: check their sum before reading the first
    const total = wanted.reduce((sum, key) => sum + (entries.get(key)?.uncompressedSize ?? 0), 0);
    checkMemory(`${path}: reading ${wanted.length} array(s)`, total, { file: path });
    for (const key of wanted) {
      const entry = entries.get(key);
      if (!entry) throw missing(path, key, entries);
      const where = { file: path, key };
      const { head, body } = await readZipEntrySplit(fh, entry, path, npyHeaderLength);
      if (!keys && parseNpyHeader(head, where).kind.kind === 'text') continue;
      out[key] = decodeNpyParts(head, body, where);
    }
    return out;
  });
}

export async function readNpzKey(path: string, key: string): Promise<NdArray> {
  return (await readNpz(path, [key]))[key];
}

/** A string-valued key (numpy '<U…' / '|S…'), e.g. JSON metadata. */
export async function readNpzText(path: string, key: string): Promise<string> {
  return withArchive(path, async (fh, entries) => {
    const entry = entries.get(key);
    if (!entry) throw missing(path, key, entries);
    return decodeNpyText(await readZipEntry(fh, entry, path), { file: path, key });
  });
}

export interface WriteNpzOptions {
  /** deflate every entry (np.savez_compressed); default stored (np.savez) */
  compress?: boolean;
  /** string-valued keys, written as 0-d numpy unicode arrays (e.g. `_metadata` JSON) */
  text?: Record<string, string>;
  /** fsync before the rename (default true); regenerable bulk data may skip it */
  durable?: boolean;
}

/** Writes arrays (and optional text keys) as an .npz numpy can `np.load` without pickles. */
export async function writeNpz(
  path: string,
  arrays: Record<string, NdArray>,
  options: WriteNpzOptions = {},
): Promise<void> {
  const inputs = Object.entries(arrays).map(([key, a]) => {
    try {
      return { name: `${key}.npy`, chunks: encodeNpyParts(a) as Uint8Array[] };
    } catch (e) {
      throw new StudyError('BAD_INPUT', `cannot write key '${key}' (${describeArray(a)}): ${(e as Error).message}`, {
        file: path,
        key,
      });
    }
  });
  for (const [key, text] of Object.entries(options.text ?? {}))
    inputs.push({ name: `${key}.npy`, chunks: [encodeNpyText(text)] });
  const seen = new Set<string>();
  for (const i of inputs) {
    if (seen.has(i.name)) throw new StudyError('BAD_INPUT', `duplicate key ${i.name.slice(0, -4)}`, { file: path });
    seen.add(i.name);
  }
  await writeFileAtomic(path, zipChunks(inputs, options.compress ?? false, path), { durable: options.durable });
}
