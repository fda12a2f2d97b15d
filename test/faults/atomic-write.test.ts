/**
 * Fault: a short write (a disk that fills up mid-write, or a write that silently lands
 * fewer bytes than it reports). What must hold: the previous file is unchanged, the error
 * names the file, and no temp file or lock is left behind.
 */
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  removeStaleTempFiles,
  stageFileAtomic,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../src/main/data/atomic';
import { withFileLock } from '../../src/main/study/lock';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writeSync: vi.fn(real.writeSync), fsync: vi.fn(real.fsync), writevSync: vi.fn(real.writevSync) };
});

const realWriteSync = (await vi.importActual<typeof import('node:fs')>('node:fs')).writeSync;
const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fault-atomic-'));
});
afterEach(() => {
  vi.mocked(fs.writeSync)
    .mockReset()
    .mockImplementation(realWriteSync as typeof fs.writeSync);
  rmSync(dir, { recursive: true, force: true });
});

const good = `${JSON.stringify({ jobs: Array.from({ length: 200 }, (_, i) => ({ id: `job-${i}` })) })}\n`;
const bigger = `${JSON.stringify({ jobs: Array.from({ length: 400 }, (_, i) => ({ id: `job-${i}`, more: true })) })}\n`;

describe('atomic writes under a short write', () => {
  it('a write that stops part-way (the disk filled) never replaces the file and names it', () => {
    const path = join(dir, 'training_manifest.json');
    writeFileSync(path, good);
    // the kernel's behaviour on a filling disk: 8192 bytes, then ENOSPC
    vi.mocked(fs.writeSync)
      .mockImplementationOnce(((fd: number, buf: Uint8Array, off?: number) =>
        realWriteSync(fd, buf, off ?? 0, 8192)) as typeof fs.writeSync)
      .mockImplementationOnce(() => {
        throw enospc();
      });
    expect(() => writeFileAtomicSync(path, bigger)).toThrow(
      expect.objectContaining({
        code: 'WRITE_FAILED',
        message: expect.stringContaining(`could not write ${path}: no space left on device (ENOSPC)`),
        details: expect.objectContaining({ file: path, found: `8192 of ${bigger.length} bytes written` }),
      }),
    );
    expect(readFileSync(path, 'utf8')).toBe(good);
    expect(readdirSync(dir)).toEqual(['training_manifest.json']);
  });

  it('a write that reports success but lands short is caught by the length check before the rename', () => {
    const path = join(dir, 'training_manifest.json');
    writeFileSync(path, good);
    // a lying write: claims every byte, writes 8192 of them
    vi.mocked(fs.writeSync).mockImplementation(((fd: number, buf: Uint8Array, off?: number, len?: number) => {
      realWriteSync(fd, buf, off ?? 0, Math.min(8192, len ?? buf.length));
      return len ?? buf.length;
    }) as typeof fs.writeSync);
    expect(() => writeFileAtomicSync(path, bigger)).toThrow(/short write \(8192 of \d+ bytes reached the disk\)/);
    expect(readFileSync(path, 'utf8')).toBe(good);
    expect(readdirSync(dir)).toEqual(['training_manifest.json']);
  });

  it('a write that makes no progress is an error, not an endless loop', () => {
    const path = join(dir, 'a.json');
    vi.mocked(fs.writeSync).mockImplementation((() => 0) as typeof fs.writeSync);
    expect(() => writeFileAtomicSync(path, good)).toThrow(/could not write .*a\.json: short write \(0 of/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the async writer (NPZ, reports, checkpoints) names the file on ENOSPC and keeps the old one', async () => {
    const path = join(dir, 'patched_train.npz');
    writeFileSync(path, 'old');
    async function* chunks() {
      yield new Uint8Array(1024);
      throw enospc();
    }
    await expect(writeFileAtomic(path, chunks())).rejects.toMatchObject({
      code: 'WRITE_FAILED',
      details: { file: path },
      message: expect.stringContaining(`could not write ${path}: no space left on device`),
    });
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['patched_train.npz']);
  });

  it('a list of chunks goes out in one writev; a writev that stops part-way is finished chunk by chunk', async () => {
    const path = join(dir, 'last.ckpt');
    const chunks = [0, 1, 2, 3].map((k) => Uint8Array.from({ length: 1000 + k }, (_, i) => (i * 7 + k) & 255));
    const all = Buffer.concat(chunks);
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const realWritev = proto.writev;
    // the kernel takes the first 1500 bytes only (the middle of the second chunk)
    const writev = vi.spyOn(proto, 'writev').mockImplementation(async function (this: FileHandle, buffers) {
      const head = Buffer.concat(buffers as Uint8Array[]).subarray(0, 1500);
      const { bytesWritten } = await this.write(head, 0, head.length);
      return { bytesWritten, buffers };
    });
    try {
      await writeFileAtomic(path, chunks);
      expect(writev).toHaveBeenCalledTimes(1);
      expect(readFileSync(path).equals(all)).toBe(true);
      // a writev that fails names the file and leaves nothing behind
      writev.mockRejectedValueOnce(enospc());
      await expect(writeFileAtomic(path, [new Uint8Array(10)])).rejects.toMatchObject({
        code: 'WRITE_FAILED',
        details: { file: path },
      });
      expect(readFileSync(path).equals(all)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['last.ckpt', 'probe']);
    } finally {
      writev.mockRestore();
      expect(proto.writev).toBe(realWritev);
    }
  });
});

describe('a staged atomic write (the final checkpoint, flushed while the model is exported)', () => {
  it('holds the bytes in a temp file until commit, then replaces the target; abandon leaves the old file', async () => {
    const path = join(dir, 'last.ckpt');
    writeFileSync(path, 'old');
    const chunks = [Uint8Array.from([1, 2, 3]), new Uint8Array(0), Uint8Array.from([4, 5])];
    const staged = stageFileAtomic(path, chunks);
    chunks[0].fill(9); // the bytes were written when stageFileAtomic returned
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toHaveLength(2); // the target and its temp
    await staged.commit();
    expect([...readFileSync(path)]).toEqual([1, 2, 3, 4, 5]);
    expect(readdirSync(dir)).toEqual(['last.ckpt']);
    const dropped = stageFileAtomic(path, [Uint8Array.from([7])]);
    dropped.abandon();
    expect([...readFileSync(path)]).toEqual([1, 2, 3, 4, 5]);
    expect(readdirSync(dir)).toEqual(['last.ckpt']);
  });

  it('a full disk while staging fails at once, names the file and keeps the old one', () => {
    const path = join(dir, 'last.ckpt');
    writeFileSync(path, 'old');
    vi.mocked(fs.writevSync).mockImplementationOnce(() => {
      throw enospc();
    });
    expect(() => stageFileAtomic(path, [Uint8Array.from([1, 2])])).toThrow(
      expect.objectContaining({ code: 'WRITE_FAILED', details: expect.objectContaining({ file: path }) }),
    );
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['last.ckpt']);
  });

  it('a flush that fails fails the commit, names the file and keeps the old one', async () => {
    const path = join(dir, 'last.ckpt');
    writeFileSync(path, 'old');
    vi.mocked(fs.fsync).mockImplementationOnce(((_fd: number, cb: (e: Error | null) => void) =>
      cb(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }))) as typeof fs.fsync);
    const staged = stageFileAtomic(path, [Uint8Array.from([1, 2])]);
    await expect(staged.commit()).rejects.toMatchObject({ code: 'WRITE_FAILED', details: { file: path } });
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['last.ckpt']);
  });
});

describe('the manifest lock on a full disk', () => {
  it('a lock that cannot be written is not left behind, and the error names the lock file', async () => {
    const lock = join(dir, 'training_manifest.json.lock');
    vi.mocked(fs.writeSync).mockImplementation(() => {
      throw enospc();
    });
    await expect(withFileLock(lock, () => 'never')).rejects.toMatchObject({
      code: 'WRITE_FAILED',
      details: { file: lock },
      message: expect.stringContaining(`could not write ${lock}: no space left on device`),
    });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a stale empty lock (a writer died) is taken over at once, not reported as LOCKED after 10 s', async () => {
    const lock = join(dir, 'training_manifest.json.lock');
    writeFileSync(lock, '');
    const old = new Date(Date.now() - 5_000);
    utimesSync(lock, old, old);
    const t0 = Date.now();
    expect(await withFileLock(lock, () => 'got it', 10_000)).toBe('got it');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('temp files left by a killed writer', () => {
  it('are recognisable by name and removed once their writer is gone', () => {
    const dead = 2 ** 22 + 999;
    writeFileSync(join(dir, `.training_manifest.json.${dead}.0a1b2c3d.tmp`), 'x');
    writeFileSync(join(dir, `.model.onnx.${process.pid}.0a1b2c3d.tmp`), 'x'); // ours: a write in flight
    writeFileSync(join(dir, 'notes.tmp'), 'x'); // not ours
    expect(removeStaleTempFiles(dir, { minAgeMs: 0 })).toEqual([`.training_manifest.json.${dead}.0a1b2c3d.tmp`]);
    expect(readdirSync(dir).sort()).toEqual([`.model.onnx.${process.pid}.0a1b2c3d.tmp`, 'notes.tmp']);
  });
});
