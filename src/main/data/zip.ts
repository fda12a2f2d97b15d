/**
 * The zip container of .npz files: central-directory reading (zip64 included, as numpy's
 * savez writes zip64 records) with random access to one entry, and a deterministic writer.
 * This module only walks the headers. Whole entries are (de)compressed by Node's zlib
 * (the same C zlib numpy uses, several times faster than a JavaScript inflater), streamed
 * into a buffer of the entry's final size; fflate's streaming inflater peeks at headers.
 */
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { crc32, createDeflateRaw, createInflateRaw } from 'node:zlib';
import { Inflate } from 'fflate';
import { StudyError } from '../../shared/errors';
import { checkMemory, formatBytes, MAX_BUFFER_BYTES } from './memory';

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  flags: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

function zipError(file: string, message: string, extra: { key?: string; found?: unknown; expected?: unknown } = {}) {
  return new StudyError('NPZ_FORMAT', `${file}: ${message}`, { file, ...extra });
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  // allocUnsafe: every byte is overwritten by the read (a short read is sliced off below)
  const buf = length > 4096 ? Buffer.allocUnsafeSlow(length) : Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === length ? buf : buf.subarray(0, off);
}

function u64(buf: Buffer, at: number): number {
  return Number(buf.readBigUInt64LE(at));
}

/** Lists the entries of a zip file from its central directory. */
export async function readZipDirectory(fh: FileHandle, file: string): Promise<ZipEntry[]> {
  const { size: fileSize } = await fh.stat();
  const tailLen = Math.min(fileSize, 22 + 0xffff + 20);
  const tail = await readAt(fh, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (tail.readUInt32LE(i) === SIG_EOCD) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw zipError(file, 'not a zip/.npz file (no end-of-central-directory record)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== SIG_ZIP64_LOCATOR) throw zipError(file, 'zip64 locator missing');
    const rec = await readAt(fh, u64(tail, loc + 8), 56);
    if (rec.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw zipError(file, 'zip64 end record missing');
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
  }
  if (cdOffset + cdSize > fileSize)
    throw zipError(file, 'corrupt central directory (it runs past the end of the file)', {
      found: `${cdSize} bytes at ${cdOffset}`,
      expected: `within ${fileSize} bytes`,
    });
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let e = 0; e < count; e++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw zipError(file, 'corrupt central directory');
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    // zip64 extended information: only the fields that overflowed, in this order
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (uncompressedSize === U32_MAX) {
          uncompressedSize = u64(cd, q);
          q += 8;
        }
        if (compressedSize === U32_MAX) {
          compressedSize = u64(cd, q);
          q += 8;
        }
        if (localHeaderOffset === U32_MAX) localHeaderOffset = u64(cd, q);
      }
      x += 4 + len;
    }
    entries.push({ name, method, flags, crc, compressedSize, uncompressedSize, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

async function dataOffset(fh: FileHandle, entry: ZipEntry, file: string): Promise<number> {
  const lh = await readAt(fh, entry.localHeaderOffset, 30);
  if (lh.length < 30 || lh.readUInt32LE(0) !== SIG_LOCAL) throw zipError(file, `corrupt local header of ${entry.name}`);
  return entry.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
}

function checkEntry(entry: ZipEntry, file: string): void {
  if (entry.flags & 1) throw zipError(file, `entry ${entry.name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8)
    throw zipError(file, `entry ${entry.name} uses zip method ${entry.method}`, {
      found: entry.method,
      expected: '0 (stored) or 8 (deflate)',
    });
}

/**
 * Before an entry is read whole: its recorded uncompressed size must fit one buffer (a zip64
 * entry over 4 GiB does not) and the available memory (a small deflated file can expand a
 * thousandfold).
 */
function checkEntrySize(entry: ZipEntry, file: string): void {
  const key = entry.name.replace(/\.npy$/, '');
  if (entry.uncompressedSize > MAX_BUFFER_BYTES)
    throw new StudyError(
      'TOO_LARGE',
      `${file}: entry ${entry.name} is ${formatBytes(entry.uncompressedSize)} uncompressed, more than one array can hold (${formatBytes(MAX_BUFFER_BYTES)}); split the data into smaller files`,
      { file, key, found: entry.uncompressedSize, expected: `≤ ${MAX_BUFFER_BYTES} bytes` },
    );
  checkMemory(
    `${file}: entry ${entry.name} (${formatBytes(entry.compressedSize)} in the file)`,
    entry.uncompressedSize,
    {
      file,
      key,
    },
  );
}

/**
 * Reads one entry, inflating if needed, into two fresh buffers: the first `headLength(prefix)`
 * bytes and the rest, each starting at offset 0 of its own ArrayBuffer, so arrays can view
 * the body without a copy. The CRC is checked over both.
 */
export async function readZipEntrySplit(
  fh: FileHandle,
  entry: ZipEntry,
  file: string,
  headLength: (prefix: Uint8Array) => number | null,
): Promise<{ head: Uint8Array; body: Uint8Array }> {
  checkEntry(entry, file);
  checkEntrySize(entry, file);
  const start = await dataOffset(fh, entry, file);
  const size = entry.uncompressedSize;
  let head: Uint8Array;
  let body: Uint8Array;
  if (entry.method === 0) {
    const prefix = await readAt(fh, start, Math.min(size, 4096));
    let h = Math.min(headLength(prefix) ?? size, size);
    if (h > prefix.length) {
      const longer = await readAt(fh, start, h);
      h = Math.min(headLength(longer) ?? h, size);
    }
    head = await readAt(fh, start, h);
    body = await readAt(fh, start + h, size - h);
    if (head.length + body.length !== size) throw zipError(file, `entry ${entry.name} is truncated`);
  } else {
    const raw = await readAt(fh, start, entry.compressedSize);
    if (raw.length !== entry.compressedSize) throw zipError(file, `entry ${entry.name} is truncated`);
    try {
      ({ head, body } = await inflateSplit(raw, size, headLength));
    } catch (e) {
      throw zipError(file, `entry ${entry.name} does not inflate: ${(e as Error).message}`);
    }
  }
  if (crc32(body, crc32(head)) >>> 0 !== entry.crc >>> 0)
    throw zipError(file, `entry ${entry.name} is corrupt (CRC mismatch)`);
  return { head, body };
}

/** Reads one whole entry (inflated) into one buffer; checks its CRC. */
export async function readZipEntry(fh: FileHandle, entry: ZipEntry, file: string): Promise<Uint8Array> {
  const { body } = await readZipEntrySplit(fh, entry, file, () => 0);
  return body;
}

/** Inflates raw deflate data chunk by chunk into a head buffer and a body buffer of known sizes. */
async function inflateSplit(
  raw: Uint8Array,
  size: number,
  headLength: (prefix: Uint8Array) => number | null,
): Promise<{ head: Uint8Array; body: Uint8Array }> {
  let pending: Uint8Array = new Uint8Array(0); // bytes seen before the head length is known
  let head: Uint8Array | null = null;
  let body = new Uint8Array(0);
  let off = 0;
  const take = (chunk: Uint8Array) => {
    if (!head) {
      const joined = new Uint8Array(pending.length + chunk.length);
      joined.set(pending);
      joined.set(chunk, pending.length);
      const h = headLength(joined);
      if (h === null || h > joined.length) {
        if (joined.length >= size) throw new Error('entry ends inside its header');
        pending = joined;
        return;
      }
      head = joined.slice(0, h);
      body = new Uint8Array(new ArrayBuffer(size - h));
      chunk = joined.subarray(h);
      pending = new Uint8Array(0);
    }
    if (off + chunk.length > body.length) throw new Error('entry inflates past its recorded size');
    body.set(chunk, off);
    off += chunk.length;
  };
  const inflater = createInflateRaw({ chunkSize: 1 << 20 });
  let failure: unknown = null;
  inflater.on('data', (chunk: Buffer) => {
    if (failure) return;
    try {
      take(chunk);
    } catch (e) {
      failure = e;
    }
  });
  const done = once(inflater, 'end');
  inflater.end(raw);
  await done;
  if (failure) throw failure;
  if (!head) {
    if (size === 0) return { head: new Uint8Array(0), body };
    throw new Error('entry ends inside its header');
  }
  if (off !== body.length) throw new Error(`inflated ${(head as Uint8Array).length + off} bytes, expected ${size}`);
  return { head, body };
}

async function deflateChunks(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const deflater = createDeflateRaw({ level: 6, chunkSize: 1 << 20 });
  deflater.on('data', (chunk: Buffer) => {
    out.push(chunk);
  });
  const done = once(deflater, 'end');
  for (const c of chunks) deflater.write(c);
  deflater.end();
  await done;
  return out;
}

/** numpy refuses .npy headers over 10 000 bytes; a prefix far beyond that is a corrupt or hostile file. */
const MAX_PREFIX = 1 << 20;

function checkPrefix(n: number, entry: ZipEntry, file: string): number {
  if (n > MAX_PREFIX)
    throw zipError(file, `entry ${entry.name} declares a ${n}-byte header`, {
      key: entry.name.replace(/\.npy$/, ''),
      found: n,
      expected: `≤ ${MAX_PREFIX} bytes (numpy writes a few hundred)`,
    });
  return n;
}

/** The first `want(bytes)` bytes of an entry, inflating only as much as needed. */
export async function readZipEntryPrefix(
  fh: FileHandle,
  entry: ZipEntry,
  file: string,
  want: (head: Uint8Array) => number,
): Promise<Uint8Array> {
  checkEntry(entry, file);
  const start = await dataOffset(fh, entry, file);
  const chunk = 1 << 16;
  let got: Uint8Array = new Uint8Array(0);
  let need = 12;
  if (entry.method === 0) {
    for (;;) {
      got = await readAt(fh, start, Math.min(Math.max(need, 4096), entry.compressedSize));
      const n = want(got);
      if (n <= got.length || got.length >= entry.compressedSize) return got;
      need = checkPrefix(n, entry, file);
    }
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((data) => {
    parts.push(data);
    total += data.length;
  });
  for (let pos = 0; pos < entry.compressedSize; pos += chunk) {
    const len = Math.min(chunk, entry.compressedSize - pos);
    inflater.push(await readAt(fh, start + pos, len), pos + len >= entry.compressedSize);
    if (total >= need) {
      got = concat(parts, total);
      need = checkPrefix(want(got), entry, file);
      if (need <= total) return got;
    }
  }
  return concat(parts, total);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One file to put in a zip: its name and content as a list of chunks (written without joining). */
export interface ZipInput {
  name: string;
  chunks: Uint8Array[];
}

// DOS timestamp 1980-01-01 00:00 (numpy's ZipInfo default): fixed, so same arrays give same bytes
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;

function localHeader(name: Uint8Array, method: number, crc: number, csize: number, usize: number): Uint8Array {
  const h = Buffer.alloc(30 + name.length);
  h.writeUInt32LE(SIG_LOCAL, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(0x800, 6); // UTF-8 names
  h.writeUInt16LE(method, 8);
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(crc >>> 0, 14);
  h.writeUInt32LE(csize, 18);
  h.writeUInt32LE(usize, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(0, 28);
  h.set(name, 30);
  return h;
}

function centralHeader(
  name: Uint8Array,
  method: number,
  crc: number,
  csize: number,
  usize: number,
  offset: number,
): Uint8Array {
  const h = Buffer.alloc(46 + name.length);
  h.writeUInt32LE(SIG_CENTRAL, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(0x800, 8);
  h.writeUInt16LE(method, 10);
  h.writeUInt16LE(DOS_TIME, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(crc >>> 0, 16);
  h.writeUInt32LE(csize, 20);
  h.writeUInt32LE(usize, 24);
  h.writeUInt16LE(name.length, 28);
  h.writeUInt32LE(offset, 42);
  h.set(name, 46);
  return h;
}

/**
 * Yields the bytes of a zip holding `inputs`, entry by entry (stored or deflated), so a
 * caller can stream it to disk. Sizes over 4 GiB are refused (no zip64 writing).
 */
export async function* zipChunks(
  inputs: readonly ZipInput[],
  compress: boolean,
  file: string,
): AsyncGenerator<Uint8Array> {
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const input of inputs) {
    const name = new TextEncoder().encode(input.name);
    let crc = 0;
    let usize = 0;
    for (const c of input.chunks) {
      crc = crc32(c, crc);
      usize += c.length;
    }
    const body = compress ? await deflateChunks(input.chunks) : input.chunks;
    const csize = body.reduce((s, c) => s + c.length, 0);
    if (usize >= U32_MAX || csize >= U32_MAX || offset >= U32_MAX)
      throw zipError(file, `entry ${input.name} is over 4 GiB; split the data into smaller files`);
    const method = compress ? 8 : 0;
    const lh = localHeader(name, method, crc, csize, usize);
    central.push(centralHeader(name, method, crc, csize, usize, offset));
    yield lh;
    for (const c of body) yield c;
    offset += lh.length + csize;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  for (const c of central) yield c;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(SIG_EOCD, 0);
  end.writeUInt16LE(inputs.length, 8);
  end.writeUInt16LE(inputs.length, 10);
  end.writeUInt32LE(cdSize, 12);
  end.writeUInt32LE(offset, 16);
  yield end;
}
