import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import { allocData, DTYPES, type DType, type NdArray, size } from './ndarray';
import { decodeNpy, encodeNpy, readNpy, writeNpy } from './npy';
import { describeNpz, listNpzKeys, readNpz, readNpzKey, readNpzText, writeNpz } from './npz';

const dir = mkdtempSync(join(tmpdir(), 'npz-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SHAPE = [2, 3, 5];

/** The same deterministic values numpy builds in PY_MAKE below (exact in every dtype). */
function make(dtype: DType, shape: number[] = SHAPE): NdArray {
  const n = size(shape);
  const data = allocData(dtype, n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'float32':
      case 'float64':
        (data as Float64Array)[i] = i * 0.37 - 5.5;
        break;
      case 'complex64':
      case 'complex128':
        (data as Float64Array)[2 * i] = i * 0.25 - 1;
        (data as Float64Array)[2 * i + 1] = 3 - i * 0.5;
        break;
      case 'int32':
        (data as Int32Array)[i] = i * 7 - 100;
        break;
      case 'int64':
        (data as BigInt64Array)[i] = BigInt(i) * 123456789012n - 5n;
        break;
      case 'uint8':
        (data as Uint8Array)[i] = (i * 13) % 256;
        break;
      case 'bool':
        (data as Uint8Array)[i] = i % 3 === 0 ? 1 : 0;
        break;
    }
  }
  return { dtype, shape, data };
}

const PY_MAKE = `
import numpy as np, sys, json
def make(dt, shape=(2, 3, 5)):
    i = np.arange(int(np.prod(shape)))
    if dt in ('float32', 'float64'): a = (i * 0.37 - 5.5)
    elif dt in ('complex64', 'complex128'): a = (i * 0.25 - 1) + 1j * (3 - i * 0.5)
    elif dt == 'int32': a = i * 7 - 100
    elif dt == 'int64': a = i.astype(np.int64) * 123456789012 - 5
    elif dt == 'uint8': a = (i * 13) % 256
    elif dt == 'bool': a = (i % 3 == 0)
    return a.astype(dt).reshape(shape)
DTYPES = ${JSON.stringify(DTYPES)}
`;

function expectSame(a: NdArray, b: NdArray): void {
  expect(a.dtype).toBe(b.dtype);
  expect(a.shape).toEqual(b.shape);
  expect(Array.from(a.data as ArrayLike<number>)).toEqual(Array.from(b.data as ArrayLike<number>));
}

describe('npy codec', () => {
  it('round-trips every dtype in memory, including 0-d and 1-d shapes', () => {
    for (const dt of DTYPES)
      for (const shape of [SHAPE, [7], []]) {
        const a = make(dt, shape);
        expectSame(decodeNpy(encodeNpy(a)), a);
      }
  });

  it('puts the data on a 64-byte boundary as numpy does', () => {
    const bytes = encodeNpy(make('float32'));
    const headerLen = 10 + (bytes[8] | (bytes[9] << 8));
    expect(headerLen % 64).toBe(0);
  });

  it('writes and reads a single .npy file', async () => {
    const p = join(dir, 'one.npy');
    await writeNpy(p, make('complex128'));
    expectSame(await readNpy(p), make('complex128'));
  });
});

describe('npz and numpy', () => {
  it('numpy reads what we write (stored and deflated) with exact values and dtypes', async () => {
    const arrays = Object.fromEntries(DTYPES.map((dt) => [dt, make(dt)]));
    arrays.vector = make('float64', [7]);
    arrays.scalar = make('int64', []);
    const stored = join(dir, 'ours_stored.npz');
    const deflated = join(dir, 'ours_deflated.npz');
    await writeNpz(stored, arrays, { text: { _metadata: '{"dose": 1000, "note": "µ-probe ✓"}' } });
    await writeNpz(deflated, arrays, { compress: true });
    const out = runPython(
      ['numpy'],
      `${PY_MAKE}
res = {}
for path in sys.argv[1:]:
    with np.load(path, allow_pickle=False) as d:
        for dt in DTYPES:
            a = d[dt]
            res[f'{path}:{dt}'] = bool(a.dtype == np.dtype(dt) and a.shape == (2, 3, 5) and np.array_equal(a, make(dt)))
        res[f'{path}:vector'] = bool(np.array_equal(d['vector'], make('float64', (7,))))
        res[f'{path}:scalar'] = bool(d['scalar'].shape == () and d['scalar'] == make('int64', ()))
        if '_metadata' in d.files:
            res['metadata'] = json.loads(str(d['_metadata']))
print(json.dumps(res))`,
      [stored, deflated],
    );
    const res = JSON.parse(out) as Record<string, unknown>;
    expect(res.metadata).toEqual({ dose: 1000, note: 'µ-probe ✓' });
    delete res.metadata;
    expect(Object.keys(res)).toHaveLength(2 * (DTYPES.length + 2));
    for (const [k, v] of Object.entries(res)) expect([k, v]).toEqual([k, true]);
  });

  it('reads numpy files exactly: savez and savez_compressed, C and Fortran order, big-endian', async () => {
    runPython(
      ['numpy'],
      `${PY_MAKE}
d = sys.argv[1]
c = {dt: make(dt) for dt in DTYPES}
f = {dt: np.asfortranarray(make(dt)) for dt in DTYPES}
be = {dt: make(dt).astype(np.dtype(dt).newbyteorder('>')) for dt in DTYPES}
for name, arrays in (('c', c), ('f', f), ('be', be)):
    np.savez(f'{d}/np_{name}.npz', **arrays)
    np.savez_compressed(f'{d}/np_{name}_z.npz', **arrays)
np.savez_compressed(f'{d}/np_text.npz', _metadata=np.array('{"a": [1, 2]}'), x=make('float32'))
np.save(f'{d}/np_f.npy', np.asfortranarray(make('complex64')))
`,
      [dir],
    );
    for (const name of ['c', 'f', 'be', 'c_z', 'f_z', 'be_z']) {
      const path = join(dir, `np_${name}.npz`);
      const arrays = await readNpz(path);
      expect(Object.keys(arrays).sort()).toEqual([...DTYPES].sort());
      for (const dt of DTYPES) {
        expectSame(arrays[dt], make(dt));
        // each array owns a tight buffer: consumers may use data.buffer directly
        expect(arrays[dt].data.byteOffset).toBe(0);
        expect(arrays[dt].data.buffer.byteLength).toBe(arrays[dt].data.byteLength);
      }
    }
    const info = await describeNpz(join(dir, 'np_f_z.npz'), ['complex64']);
    expect(info[0]).toMatchObject({ descr: '<c8', fortranOrder: true, shape: SHAPE, compressed: true });
    expect((await describeNpz(join(dir, 'np_be.npz'), ['float64']))[0].descr).toBe('>f8');
    expectSame(await readNpy(join(dir, 'np_f.npy')), make('complex64'));
    const textFile = join(dir, 'np_text.npz');
    expect(JSON.parse(await readNpzText(textFile, '_metadata'))).toEqual({ a: [1, 2] });
    expect(Object.keys(await readNpz(textFile))).toEqual(['x']);
    expect(await listNpzKeys(textFile)).toEqual(['_metadata', 'x']);
    expectSame(await readNpzKey(textFile, 'x'), make('float32'));
  });

  it('refuses pickled object arrays, naming the key, but reads the other keys', async () => {
    const path = join(dir, 'pickled.npz');
    runPython(
      ['numpy'],
      `import numpy as np, sys
np.savez(sys.argv[1], diffraction=np.ones((2, 4, 4), np.float32), _metadata=np.array({'dose': 1e3}, dtype=object))`,
      [path],
    );
    await expect(readNpz(path)).rejects.toThrow(/key '_metadata' holds a pickled object array \(dtype \|O\)/);
    await expect(readNpzKey(path, '_metadata')).rejects.toMatchObject({
      code: 'NPZ_FORMAT',
      details: { key: '_metadata' },
    });
    const d = await readNpzKey(path, 'diffraction');
    expect(d.shape).toEqual([2, 4, 4]);
    expect((await describeNpz(path, ['_metadata']))[0].kind).toBe('object');
  });

  it('names the file and the missing key', async () => {
    const path = join(dir, 'ours_stored.npz');
    await expect(readNpzKey(path, 'nope')).rejects.toMatchObject({
      code: 'DATA_CONTRACT',
      details: { file: path, key: 'nope' },
    });
    await expect(readNpz(join(dir, 'absent.npz'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('writes identical bytes for identical arrays', async () => {
    const { readFileSync } = await import('node:fs');
    const a = join(dir, 'det_a.npz');
    const b = join(dir, 'det_b.npz');
    await writeNpz(a, { x: make('complex64') }, { compress: true });
    await writeNpz(b, { x: make('complex64') }, { compress: true });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });
});
