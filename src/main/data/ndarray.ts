/**
 * A numpy-like n-dimensional array: a dtype, a shape and a flat typed buffer in C order.
 *
 * Complex values are interleaved (re, im) pairs: complex64 in a Float32Array and complex128
 * in a Float64Array, so `data.length === 2 * size(shape)` for complex dtypes. bool is one
 * byte per element (0/1) in a Uint8Array, as numpy stores it. Arrays read from Fortran-order
 * or big-endian files are converted to this layout on read.
 */
import { StudyError } from '../../shared/errors';

export type DType = 'float32' | 'float64' | 'complex64' | 'complex128' | 'int32' | 'int64' | 'uint8' | 'bool';

export type NdData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface NdArray {
  dtype: DType;
  shape: number[];
  data: NdData;
}

export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'complex64',
  'complex128',
  'int32',
  'int64',
  'uint8',
  'bool',
];

/** Bytes per element (a complex element is both parts). */
export const ITEM_SIZE: Record<DType, number> = {
  float32: 4,
  float64: 8,
  complex64: 8,
  complex128: 16,
  int32: 4,
  int64: 8,
  uint8: 1,
  bool: 1,
};

export function isComplex(dtype: DType): dtype is 'complex64' | 'complex128' {
  return dtype === 'complex64' || dtype === 'complex128';
}

export function isFloat(dtype: DType): dtype is 'float32' | 'float64' {
  return dtype === 'float32' || dtype === 'float64';
}

export function isInteger(dtype: DType): dtype is 'int32' | 'int64' | 'uint8' {
  return dtype === 'int32' || dtype === 'int64' || dtype === 'uint8';
}

/** Number of elements of a shape (1 for a 0-d scalar). */
export function size(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Typed-array values per element: 2 for complex (re, im), else 1. */
export function lanes(dtype: DType): number {
  return isComplex(dtype) ? 2 : 1;
}

/** An empty buffer of the right typed-array class for `count` elements. */
export function allocData(dtype: DType, count: number): NdData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(count);
    case 'float64':
      return new Float64Array(count);
    case 'complex64':
      return new Float32Array(2 * count);
    case 'complex128':
      return new Float64Array(2 * count);
    case 'int32':
      return new Int32Array(count);
    case 'int64':
      return new BigInt64Array(count);
    case 'uint8':
    case 'bool':
      return new Uint8Array(count);
  }
}

export function zeros(dtype: DType, shape: readonly number[]): NdArray {
  return { dtype, shape: [...shape], data: allocData(dtype, size(shape)) };
}

/** Wraps an existing buffer, checking that its class and length fit the dtype and shape. */
export function ndarray(dtype: DType, shape: readonly number[], data: NdData): NdArray {
  const expected = allocData(dtype, 0).constructor;
  if (data.constructor !== expected)
    throw new StudyError('BAD_INPUT', `a ${dtype} array needs a ${expected.name}, got ${data.constructor.name}`);
  const n = size(shape) * lanes(dtype);
  if (data.length !== n)
    throw new StudyError(
      'BAD_INPUT',
      `buffer of ${data.length} values does not fit ${dtype} shape (${shape.join(', ')})`,
      {
        found: data.length,
        expected: n,
      },
    );
  return { dtype, shape: [...shape], data };
}

/** Real values as float64 (ints and bools converted); complex arrays are refused. */
export function toFloat64(a: NdArray): Float64Array {
  if (isComplex(a.dtype)) throw new StudyError('BAD_INPUT', `expected a real array, got ${a.dtype}`);
  if (a.data instanceof Float64Array) return a.data;
  const out = new Float64Array(a.data.length);
  if (a.data instanceof BigInt64Array) for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]);
  else out.set(a.data);
  return out;
}

/** Casts between float32/float64 or complex64/complex128 (same kind); returns `a` itself when nothing changes. */
export function castFloat(a: NdArray, dtype: 'float32' | 'float64' | 'complex64' | 'complex128'): NdArray {
  if (a.dtype === dtype) return a;
  if (isComplex(a.dtype) !== isComplex(dtype) || !(a.data instanceof Float32Array || a.data instanceof Float64Array))
    throw new StudyError('BAD_INPUT', `cannot cast ${a.dtype} to ${dtype}`);
  const data = dtype === 'float32' || dtype === 'complex64' ? new Float32Array(a.data) : new Float64Array(a.data);
  return { dtype, shape: [...a.shape], data };
}

/** Rows [start, end) along the first axis (a copy). */
export function sliceRows(a: NdArray, start: number, end: number): NdArray {
  const row = (size(a.shape.slice(1)) * lanes(a.dtype)) | 0;
  return { dtype: a.dtype, shape: [end - start, ...a.shape.slice(1)], data: a.data.slice(start * row, end * row) };
}

/** Rows picked by index along the first axis (a copy, in the order given). */
export function takeRows(a: NdArray, indices: ArrayLike<number>): NdArray {
  const row = size(a.shape.slice(1)) * lanes(a.dtype);
  const out = allocData(a.dtype, indices.length * size(a.shape.slice(1)));
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    // out and a.data are the same typed-array class (allocData of a.dtype)
    if (out instanceof BigInt64Array) out.set((a.data as BigInt64Array).subarray(i * row, (i + 1) * row), k * row);
    else (out as Float64Array).set((a.data as Float64Array).subarray(i * row, (i + 1) * row), k * row);
  }
  return { dtype: a.dtype, shape: [indices.length, ...a.shape.slice(1)], data: out };
}

export function describeArray(a: Pick<NdArray, 'dtype' | 'shape'>): string {
  return `${a.dtype} (${a.shape.join(', ')}${a.shape.length === 1 ? ',' : ''})`;
}
