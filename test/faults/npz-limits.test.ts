/**
 * Fault: an NPZ whose arrays cannot be held — a zip64 entry over 4 GiB, or a small deflated
 * file that expands past the available memory. What must hold: a TOO_LARGE error naming the
 * file, the entry and the sizes, raised before the buffer is allocated (no raw RangeError, no
 * out-of-memory abort), and `validate` reports the file and goes on with the rest of its batch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpyParts } from '../../src/main/data/npy';
import { readNpz, writeNpz } from '../../src/main/data/npz';
import { simulatePhaseC } from '../../src/main/data/simulate';
import { validateStudyFile } from '../../src/main/data/validate';
import { runCliSync } from '../helpers/cli';

let dir: string;
let good: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fault-npz-'));
  const s = await simulatePhaseC(join(dir, 'phase_c'), { objectSize: 160, nPositions: 64, doses: [1e3] });
  good = s.doses[0].train.path;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.PTYCHO_STUDY_MEMORY_BYTES;
});

/** A .npy header for a float32 vector of `n` elements. */
function npyHeader(n: number): Buffer {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n},), }`;
  while ((10 + dict.length + 1) % 64) dict += ' ';
  const h = Buffer.alloc(10);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]).copy(h);
  h.writeUInt16LE(dict.length + 1, 8);
  return Buffer.concat([h, Buffer.from(`${dict}\n`)]);
}

/**
 * A one-entry zip whose central directory records (via zip64) an uncompressed size of `usize`
 * bytes, its entry a float32 .npy of that size whose data is cut short (the file stays small).
 */
function zip64Claiming(
  name: string,
  usize: number,
  method: 0 | 8 = 8,
  plain = Buffer.concat([npyHeader((usize - 128) / 4), Buffer.alloc(1024)]),
): Buffer {
  const body = method === 8 ? deflateRawSync(plain) : plain;
  const fname = Buffer.from(name);
  const extra = Buffer.alloc(12);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(8, 2);
  extra.writeBigUInt64LE(BigInt(usize), 4);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(45, 4);
  local.writeUInt16LE(method, 8);
  local.writeUInt32LE(crc32(plain), 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(0xffffffff, 22);
  local.writeUInt16LE(fname.length, 26);
  local.writeUInt16LE(extra.length, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(45, 4);
  central.writeUInt16LE(45, 6);
  central.writeUInt16LE(method, 10);
  central.writeUInt32LE(crc32(plain), 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(0xffffffff, 24);
  central.writeUInt16LE(fname.length, 28);
  central.writeUInt16LE(extra.length, 30);
  central.writeUInt32LE(0, 42);
  const head = Buffer.concat([local, fname, extra, body]);
  const cd = Buffer.concat([central, fname, extra]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(head.length, 16);
  return Buffer.concat([head, cd, end]);
}

describe('NPZ size limits', () => {
  it('a zip64 entry over 4 GiB is a clear TOO_LARGE error, not a RangeError', async () => {
    const path = join(dir, 'huge.npz');
    writeFileSync(path, zip64Claiming('diffraction.npy', 5 * 2 ** 30));
    await expect(readNpz(path, ['diffraction'])).rejects.toMatchObject({
      code: 'TOO_LARGE',
      details: { file: path, key: 'diffraction' },
      message: expect.stringMatching(/huge\.npz: entry diffraction\.npy is 5\.0 GiB uncompressed, more than one array/),
    });
  });

  it('a small deflated file that expands past the available memory is refused before inflating', async () => {
    const path = join(dir, 'bomb.npz');
    const zeros = { dtype: 'float32' as const, shape: [2048, 1024], data: new Float32Array(2048 * 1024) };
    await writeNpz(path, { diffraction: zeros }, { compress: true });
    process.env.PTYCHO_STUDY_MEMORY_BYTES = String(4 * 2 ** 20);
    await expect(readNpz(path)).rejects.toMatchObject({
      code: 'TOO_LARGE',
      details: { file: path },
      message: expect.stringMatching(/bomb\.npz.* needs about 8\.0 MiB of memory; 4\.0 MiB is available/),
    });
    expect(encodeNpyParts(zeros).length).toBeGreaterThan(0);
  });

  it('a .npy header claiming 2 GiB is refused before its bytes are inflated', async () => {
    const path = join(dir, 'header.npz');
    const v2 = Buffer.alloc(12);
    Buffer.from([0x93, ...Buffer.from('NUMPY'), 2, 0]).copy(v2);
    v2.writeUInt32LE(2 ** 31, 8);
    const plain = Buffer.concat([v2, Buffer.alloc(4 << 20)]);
    writeFileSync(path, zip64Claiming('diffraction.npy', plain.length, 8, plain));
    const r = await validateStudyFile(path);
    expect(r.ok).toBe(false);
    expect(r.errors[0].message).toContain('entry diffraction.npy declares a 2147483660-byte header');
  });

  it('validate reports the oversized file and still checks the rest of the batch', async () => {
    const huge = join(dir, 'huge-stored.npz');
    writeFileSync(huge, zip64Claiming('diffraction.npy', 5 * 2 ** 30, 0));
    const report = await validateStudyFile(huge);
    expect(report.ok).toBe(false);
    expect(report.errors[0].message).toContain('more than one array can hold');
    const r = runCliSync(['validate', huge, good]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✘ ${huge}`);
    expect(r.stdout).toContain(`✔ ${good}`);
    expect(r.stdout).toContain('1 of 2 files pass DATA-001');
    expect(r.stderr).not.toMatch(/RangeError|\n\s+at /);
  });
});
