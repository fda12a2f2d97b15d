/**
 * The .npy format (numpy's `format.py`, versions 1.0–3.0): a magic string, a Python-dict
 * header naming descr / fortran_order / shape, then the raw element bytes.
 *
 * Reads float32/64, complex64/128, int32/64, uint8 and bool in either byte order and in C or
 * Fortran order (converted to C order, native little-endian); 0-d unicode/bytes strings are
 * read as text (numpy's way of storing a plain JSON string). Object arrays ('|O', i.e.
 * pickles) are refused: unpickling runs arbitrary code.
 */
import { open, readFile } from 'node:fs/promises';
import { StudyError } from '../../shared/errors';
import { writeFileAtomic } from './atomic';
import { allocData, type DType, ITEM_SIZE, lanes, type NdArray, type NdData, size } from './ndarray';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Where an array came from, for error messages. */
export interface NpyWhere {
  file?: string;
  key?: string;
}

export type NpyKind =
  | { kind: 'numeric'; dtype: DType; littleEndian: boolean }
  | { kind: 'text'; encoding: 'utf32' | 'latin1'; chars: number; littleEndian: boolean }
  | { kind: 'object' }
  | { kind: 'unsupported' };

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the first element (magic + length field + header text). */
  dataOffset: number;
  kind: NpyKind;
}

const NUMERIC: Record<string, DType> = {
  f4: 'float32',
  f8: 'float64',
  c8: 'complex64',
  c16: 'complex128',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  b1: 'bool',
};
const DESCR: Record<DType, string> = {
  float32: '<f4',
  float64: '<f8',
  complex64: '<c8',
  complex128: '<c16',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  bool: '|b1',
};

function label(where: NpyWhere): string {
  return where.key ? `key '${where.key}'` : (where.file ?? 'array');
}

function formatError(
  message: string,
  where: NpyWhere,
  extra: { found?: unknown; expected?: unknown; hint?: string } = {},
) {
  return new StudyError('NPZ_FORMAT', message, { file: where.file, key: where.key, ...extra });
}

export function classifyDescr(descr: string): NpyKind {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!m) return { kind: 'unsupported' };
  const [, order, type, bytes] = m;
  const littleEndian = order !== '>';
  if (type === 'O') return { kind: 'object' };
  if (type === 'U') return { kind: 'text', encoding: 'utf32', chars: Number(bytes || 0), littleEndian };
  if (type === 'S' || type === 'a')
    return { kind: 'text', encoding: 'latin1', chars: Number(bytes || 0), littleEndian };
  const dtype = NUMERIC[`${type}${bytes}`];
  return dtype ? { kind: 'numeric', dtype, littleEndian } : { kind: 'unsupported' };
}

/** Total bytes of header needed before the data, from the first 12 bytes (or null if too few bytes). */
export function npyHeaderLength(bytes: Uint8Array): number | null {
  if (bytes.length < 10) return null;
  const major = bytes[6];
  if (major === 1) return 10 + (bytes[8] | (bytes[9] << 8));
  if (bytes.length < 12) return null;
  return 12 + (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
}

export function parseNpyHeader(bytes: Uint8Array, where: NpyWhere = {}): NpyHeader {
  for (let i = 0; i < MAGIC.length; i++)
    if (bytes[i] !== MAGIC[i])
      throw formatError(`${label(where)} is not a .npy array (bad magic)`, where, { expected: '\\x93NUMPY' });
  const major = bytes[6];
  if (major < 1 || major > 3)
    throw formatError(`${label(where)} uses .npy format version ${major}.${bytes[7]}`, where, {
      found: major,
      expected: '1, 2 or 3',
    });
  const dataOffset = npyHeaderLength(bytes);
  if (dataOffset === null || bytes.length < dataOffset)
    throw formatError(`${label(where)} has a truncated .npy header`, where);
  const start = major === 1 ? 10 : 12;
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, dataOffset));
  const descrMatch = /'descr'\s*:\s*(?:'([^']*)'|(\[))/.exec(text);
  const fortranMatch = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descrMatch || !fortranMatch || !shapeMatch)
    throw formatError(`${label(where)} has an unreadable .npy header`, where, { found: text.trim() });
  const descr = descrMatch[1] ?? 'structured';
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((s) => !Number.isInteger(s) || s < 0))
    throw formatError(`${label(where)} has an invalid shape`, where, { found: shapeMatch[1] });
  return { descr, fortranOrder: fortranMatch[1] === 'True', shape, dataOffset, kind: classifyDescr(descr) };
}

function refuse(header: NpyHeader, where: NpyWhere): never {
  if (header.kind.kind === 'object')
    throw formatError(
      `${label(where)} holds a pickled object array (dtype ${header.descr}); ptycho-study never unpickles files, since unpickling can run arbitrary code`,
      where,
      {
        found: header.descr,
        expected: 'a plain numeric or string array',
        hint: 'read the other keys by name, or re-save without object arrays (JSON text as a numpy string)',
      },
    );
  throw formatError(`${label(where)} has unsupported dtype ${header.descr}`, where, {
    found: header.descr,
    expected: Object.values(DESCR).join(' '),
  });
}

function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width)
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
}

function typedView(dtype: DType, bytes: Uint8Array): NdData {
  const { buffer, byteOffset: o } = bytes;
  const n = bytes.byteLength;
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return new Float32Array(buffer, o, n / 4);
    case 'float64':
    case 'complex128':
      return new Float64Array(buffer, o, n / 8);
    case 'int32':
      return new Int32Array(buffer, o, n / 4);
    case 'int64':
      return new BigInt64Array(buffer, o, n / 8);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, o, n);
  }
}

/** Fortran → C order. `width` = typed-array values per element (2 for complex). */
export function fortranToC<T extends NdData>(src: T, shape: readonly number[], width: number): T {
  const nd = shape.length;
  if (nd <= 1) return src;
  const out = src.slice() as T;
  // F strides (in elements): first axis fastest
  const fStride = new Array<number>(nd);
  let s = 1;
  for (let d = 0; d < nd; d++) {
    fStride[d] = s;
    s *= shape[d];
  }
  const total = s;
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  const o = out as unknown as Float64Array;
  const i = src as unknown as Float64Array;
  for (let c = 0; c < total; c++) {
    for (let w = 0; w < width; w++) o[c * width + w] = i[f * width + w];
    // advance the C-order odometer (last axis fastest), tracking the F offset
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      f += fStride[d];
      if (idx[d] < shape[d]) break;
      f -= fStride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function elementBytes(header: NpyHeader, bytes: Uint8Array, itemSize: number, where: NpyWhere): Uint8Array {
  const need = size(header.shape) * itemSize;
  if (bytes.length - header.dataOffset < need)
    throw formatError(`${label(where)} is truncated`, where, {
      found: `${bytes.length - header.dataOffset} data bytes`,
      expected: `${need} bytes for shape (${header.shape.join(', ')})`,
    });
  // copy into a fresh, aligned buffer we own (Buffer#slice would only be a view)
  const own = new Uint8Array(need);
  own.set(bytes.subarray(header.dataOffset, header.dataOffset + need));
  return own;
}

/** Decodes a whole .npy buffer into a C-order, native-endian NdArray (copying the data). */
export function decodeNpy(bytes: Uint8Array, where: NpyWhere = {}): NdArray {
  const header = parseNpyHeader(bytes, where);
  const numeric = numericKind(header, where);
  return finish(header, numeric, elementBytes(header, bytes, ITEM_SIZE[numeric.dtype], where));
}

/**
 * Decodes a .npy split into its header bytes and a body the caller hands over: the array
 * views the body in place (no copy) when it is native-endian, C-order and aligned.
 */
export function decodeNpyParts(head: Uint8Array, body: Uint8Array, where: NpyWhere = {}): NdArray {
  const header = parseNpyHeader(head, where);
  const numeric = numericKind(header, where);
  const need = size(header.shape) * ITEM_SIZE[numeric.dtype];
  if (head.length !== header.dataOffset || body.length < need)
    throw formatError(`${label(where)} is truncated`, where, {
      found: `${body.length} data bytes`,
      expected: `${need} bytes for shape (${header.shape.join(', ')})`,
    });
  let data = body.subarray(0, need);
  if (data.byteOffset % (ITEM_SIZE[numeric.dtype] / lanes(numeric.dtype)) !== 0) data = data.slice();
  return finish(header, numeric, data);
}

function numericKind(header: NpyHeader, where: NpyWhere): Extract<NpyKind, { kind: 'numeric' }> {
  const kind = header.kind;
  if (kind.kind !== 'numeric') {
    if (kind.kind === 'text')
      throw formatError(`${label(where)} is a string array, not numeric`, where, {
        found: header.descr,
        expected: 'numeric',
      });
    refuse(header, where);
  }
  return kind;
}

/** Byte order and memory order fixed up in place; `own` belongs to the new array. */
function finish(header: NpyHeader, kind: Extract<NpyKind, { kind: 'numeric' }>, own: Uint8Array): NdArray {
  const width = lanes(kind.dtype);
  if (kind.littleEndian !== HOST_LE) swapBytes(own, ITEM_SIZE[kind.dtype] / width);
  let data = typedView(kind.dtype, own);
  if (header.fortranOrder) data = fortranToC(data, header.shape, width);
  return { dtype: kind.dtype, shape: header.shape, data };
}

/** Decodes a string .npy (numpy '<U…' or '|S…', any shape; elements joined by newlines). */
export function decodeNpyText(bytes: Uint8Array, where: NpyWhere = {}): string {
  const header = parseNpyHeader(bytes, where);
  const kind = header.kind;
  if (kind.kind !== 'text') {
    if (kind.kind === 'numeric')
      throw formatError(`${label(where)} is numeric, not a string`, where, { found: header.descr, expected: '<U' });
    refuse(header, where);
  }
  const itemSize = kind.encoding === 'utf32' ? 4 * kind.chars : kind.chars;
  const own = elementBytes(header, bytes, itemSize, where);
  const parts: string[] = [];
  for (let e = 0; e < size(header.shape); e++) {
    const item = own.subarray(e * itemSize, (e + 1) * itemSize);
    let s = '';
    if (kind.encoding === 'utf32') {
      const dv = new DataView(item.buffer, item.byteOffset, item.byteLength);
      for (let k = 0; k < kind.chars; k++) {
        const cp = dv.getUint32(4 * k, kind.littleEndian);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
    } else {
      let end = item.indexOf(0);
      if (end < 0) end = item.length;
      s = new TextDecoder('latin1').decode(item.subarray(0, end));
    }
    parts.push(s);
  }
  return parts.join('\n');
}

function headerBytes(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy pads with spaces and a final newline so the data starts on a 64-byte boundary
  let prefix = 10;
  let total = prefix + dict.length + 1;
  if (total + (ALIGN - (total % ALIGN)) - prefix > 0xffff) prefix = 12;
  total = prefix + dict.length + 1;
  const pad = (ALIGN - (total % ALIGN)) % ALIGN;
  const text = `${dict}${' '.repeat(pad)}\n`;
  const out = new Uint8Array(prefix + text.length);
  out.set(MAGIC);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (prefix === 10) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  return out;
}

/** The .npy header for `a` and a little-endian view of its element bytes (no copy on LE hosts). */
export function encodeNpyParts(a: NdArray): [Uint8Array, Uint8Array] {
  const expected = size(a.shape) * lanes(a.dtype);
  if (a.data.length !== expected)
    throw new StudyError('BAD_INPUT', `array data has ${a.data.length} values, shape needs ${expected}`);
  let body = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  if (!HOST_LE) {
    body = body.slice();
    swapBytes(body, ITEM_SIZE[a.dtype] / lanes(a.dtype));
  }
  return [headerBytes(DESCR[a.dtype], a.shape), body];
}

export function encodeNpy(a: NdArray): Uint8Array {
  const [head, body] = encodeNpyParts(a);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A 0-d numpy unicode string ('<U…'), e.g. JSON metadata numpy reads without pickles. */
export function encodeNpyText(text: string): Uint8Array {
  const cps = Array.from(text, (c) => c.codePointAt(0) ?? 0);
  const chars = Math.max(1, cps.length);
  const head = headerBytes(`<U${chars}`, []);
  const out = new Uint8Array(head.length + 4 * chars);
  out.set(head);
  const dv = new DataView(out.buffer, head.length);
  cps.forEach((cp, i) => {
    dv.setUint32(4 * i, cp, true);
  });
  return out;
}

export function emptyLike(dtype: DType, shape: number[]): NdArray {
  return { dtype, shape, data: allocData(dtype, size(shape)) };
}

export async function readNpy(path: string): Promise<NdArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new StudyError('NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  return decodeNpy(bytes, { file: path });
}

/** Reads only the header of a .npy file (dtype and shape without the data). */
export async function readNpyHeader(path: string): Promise<NpyHeader> {
  const fh = await open(path, 'r');
  try {
    const first = Buffer.alloc(12);
    await fh.read(first, 0, 12, 0);
    const len = npyHeaderLength(first) ?? 12;
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, 0);
    return parseNpyHeader(buf, { file: path });
  } finally {
    await fh.close();
  }
}

export async function writeNpy(path: string, a: NdArray): Promise<void> {
  await writeFileAtomic(path, encodeNpyParts(a));
}
