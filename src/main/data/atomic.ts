/**
 * Atomic, checked file writes: write a temp file next to the target, fsync, verify that the
 * file on disk holds every byte, then rename it over the target. A full disk, a short write
 * or a crash at any moment leaves the previous file as it was — never a truncated one under
 * the final name — and the error names the file.
 *
 * Temp files are named `.<name>.<pid>.<hex>.tmp` beside the target: recognisable, hidden,
 * ignored by every reader, and removed by `removeStaleTempFiles` once their writer is gone.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StudyError } from '../../shared/errors';

/** `.<name>.<pid>.<hex>.tmp`: group 1 = the target's name, group 2 = the writer's pid. */
export const TEMP_FILE_PATTERN = /^\.(.+)\.(\d+)\.([0-9a-f]+)\.tmp$/;

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'a folder is in the way',
  ENOTDIR: 'a file is in the way of a folder',
  EIO: 'input/output error',
};

/** A write failure as a StudyError naming the file, what was written and that the old file is intact. */
export function writeFailure(path: string, cause: unknown, written?: { bytes: number; of: number }): StudyError {
  if (cause instanceof StudyError) return cause;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code && REASONS[code]) ?? (cause instanceof Error ? cause.message : String(cause));
  return new StudyError('WRITE_FAILED', `could not write ${path}: ${reason}${code ? ` (${code})` : ''}`, {
    file: path,
    found: written ? `${written.bytes} of ${written.of} bytes written` : undefined,
    hint:
      code === 'ENOSPC' || code === 'EDQUOT'
        ? 'free some disk space and run again; the previous file is unchanged'
        : 'the previous file is unchanged',
  });
}

function shortWrite(path: string, bytes: number, of: number): StudyError {
  return new StudyError(
    'WRITE_FAILED',
    `could not write ${path}: short write (${bytes} of ${of} bytes reached the disk)`,
    {
      file: path,
      found: `${bytes} of ${of} bytes`,
      hint: 'the disk is probably full; free some space and run again; the previous file is unchanged',
    },
  );
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** Synchronous form, for small files written under a lock (the manifest). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, { durable = true } = {}): void {
  const bytes = toBytes(data);
  const tmp = tempPathFor(path);
  let off = 0;
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    while (off < bytes.length) {
      const n = writeSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 30));
      if (n <= 0) throw shortWrite(path, off, bytes.length);
      off += n;
    }
    if (durable) fsyncSync(fd);
    const onDisk = fstatSync(fd).size;
    if (onDisk !== bytes.length) throw shortWrite(path, onDisk, bytes.length);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the temp is removed below
      }
    }
    rmSync(tmp, { force: true });
    throw writeFailure(path, e, { bytes: off, of: bytes.length });
  }
}

/** An atomic write whose bytes are in a temp file and whose flush may still be running. */
export interface StagedWrite {
  /** Waits for the flush, checks the length on disk, renames the temp over the target. */
  commit(): Promise<void>;
  /** Removes the temp file (the target is untouched); for a caller that will not commit. */
  abandon(): void;
}

/**
 * An atomic write in two halves, so that the flush to disk runs while the caller works: the
 * chunks go to a temp file now (synchronously, into the page cache: the caller may change
 * them as soon as this returns) and, when `durable`, the temp's fsync starts on libuv's
 * thread pool. `commit()` waits for it, checks the length and renames, with the guarantees of
 * writeFileAtomic. A job's final checkpoint (28 MB) flushes while its model is exported.
 */
export function stageFileAtomic(
  path: string,
  chunks: readonly Uint8Array[],
  { durable = true }: { durable?: boolean } = {},
): StagedWrite {
  const tmp = tempPathFor(path);
  const total = chunks.reduce((n, c) => n + c.length, 0);
  let fd: number | null = null;
  const fail = (e: unknown): never => {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the temp is removed below
      }
      fd = null;
    }
    rmSync(tmp, { force: true });
    throw writeFailure(path, e);
  };
  let flushed: Promise<void> = Promise.resolve();
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(tmp, 'w');
    const file = fd;
    let written = 0;
    for (const { batch, bytes } of writevBatches(chunks)) {
      const done = writevSync(file, batch);
      let at = written + done;
      for (const rest of unwritten(batch, done)) {
        writeAllSync(file, rest, path, at);
        at += rest.length;
      }
      written += bytes;
    }
    if (durable) flushed = new Promise((resolve, reject) => fsync(file, (e) => (e ? reject(e) : resolve())));
    flushed.catch(() => {}); // read in commit(): a failed flush never goes unhandled
  } catch (e) {
    fail(e);
  }
  return {
    async commit() {
      try {
        await flushed;
        const onDisk = fstatSync(fd as number).size;
        if (onDisk !== total) throw shortWrite(path, onDisk, total);
        closeSync(fd as number);
        fd = null;
        renameSync(tmp, path);
      } catch (e) {
        fail(e);
      }
    },
    abandon() {
      if (fd === null) return;
      try {
        closeSync(fd);
      } catch {
        // the temp goes either way
      }
      fd = null;
      rmSync(tmp, { force: true });
    },
  };
}

export function writeJsonAtomicSync(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * `durable` also fsyncs before the rename (a crash can then never leave an empty file under
 * the final name). Large regenerable data skips it: on shared disks the flush costs more
 * than computing the data. The length on disk is verified either way.
 */
export async function writeFileAtomic(
  path: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> | string,
  { durable = true }: { durable?: boolean } = {},
): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw writeFailure(path, e);
  }
  const tmp = tempPathFor(path);
  let fh: FileHandle | null = null;
  let total = 0;
  try {
    fh = await open(tmp, 'w');
    if (Array.isArray(chunks)) {
      total = await writeAllChunks(fh, chunks, path);
    } else {
      const source = typeof chunks === 'string' ? [Buffer.from(chunks, 'utf8')] : chunks;
      for await (const c of source) {
        await writeAll(fh, c, path, total);
        total += c.length;
      }
    }
    if (durable) await fh.sync();
    const { size } = await fh.stat();
    if (size !== total) throw shortWrite(path, size, total);
    await fh.close();
    fh = null;
    await rename(tmp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await rm(tmp, { force: true });
    throw writeFailure(path, e);
  }
}

/** Buffers per writev call (POSIX guarantees at least 16; Linux takes 1024). */
const WRITEV_MAX = 1024;

/** A chunk list as writev batches (a checkpoint's some 300 tensors: one call), empty chunks dropped. */
function* writevBatches(chunks: readonly Uint8Array[]): Generator<{ batch: Uint8Array[]; bytes: number }> {
  for (let i = 0; i < chunks.length; i += WRITEV_MAX) {
    const batch = chunks.slice(i, i + WRITEV_MAX).filter((c) => c.length > 0);
    if (batch.length) yield { batch, bytes: batch.reduce((n, c) => n + c.length, 0) };
  }
}

/** What a writev of `batch` that wrote `done` bytes left to write, as views of the chunks. */
function unwritten(batch: readonly Uint8Array[], done: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  for (const c of batch) {
    if (done >= c.length) {
      done -= c.length;
      continue;
    }
    rest.push(done ? c.subarray(done) : c);
    done = 0;
  }
  return rest;
}

/** Writes a list of chunks in order, a writev per batch; a short writev is finished chunk by chunk. Returns the bytes written. */
async function writeAllChunks(fh: FileHandle, chunks: readonly Uint8Array[], path: string): Promise<number> {
  let total = 0;
  for (const { batch, bytes } of writevBatches(chunks)) {
    const { bytesWritten } = await fh.writev(batch);
    let at = total + bytesWritten;
    for (const rest of unwritten(batch, bytesWritten)) {
      await writeAll(fh, rest, path, at);
      at += rest.length;
    }
    total += bytes;
  }
  return total;
}

/** writeAll's synchronous twin, on a file descriptor. */
function writeAllSync(fd: number, chunk: Uint8Array, path: string, before: number): void {
  for (let off = 0; off < chunk.length; ) {
    const n = writeSync(fd, chunk, off, Math.min(chunk.length - off, 1 << 30));
    if (n <= 0) throw shortWrite(path, before + off, before + chunk.length);
    off += n;
  }
}

/** Writes a chunk completely (fh.write may write less than asked); a write of nothing is a full disk. */
export async function writeAll(fh: FileHandle, chunk: Uint8Array, path = 'file', before = 0): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, Math.min(chunk.length - off, 1 << 30));
    if (bytesWritten <= 0) throw shortWrite(path, before + off, before + chunk.length);
    off += bytesWritten;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files (see TEMP_FILE_PATTERN) in `dir` left by writers that were killed: the
 * writer's pid is gone on this host and the file has not changed for `minAgeMs` (on a disk
 * shared between hosts a pid may belong to another machine; a live writer there keeps its
 * file fresh). Returns the names removed. Never throws: cleaning is best effort.
 */
export function removeStaleTempFiles(
  dir: string,
  { minAgeMs = 60_000, target }: { minAgeMs?: number; target?: (name: string) => boolean } = {},
): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = TEMP_FILE_PATTERN.exec(name);
    if (!m || (target && !target(m[1]))) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || isProcessAlive(pid)) continue;
    const path = join(dir, name);
    try {
      // minAgeMs 0 means any age: a file written within this millisecond can carry an mtime
      // a fraction ahead of Date.now(), which is whole milliseconds
      if (minAgeMs > 0 && Date.now() - statSync(path).mtimeMs < minAgeMs) continue;
      rmSync(path, { force: true, recursive: true });
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}
