import { describe, expect, it } from 'vitest';
import { type ContractInput, type ContractOptions, checkContract, type RuleId } from './contract';
import type { NdArray } from './ndarray';
import type { NpzKeyInfo } from './npz';
import { forwardIntensity } from './physics';

const M = 6;
const N = 8;
const FILE = '/data/study.npz';

/** A small file that satisfies every rule: Y patches of an object, a probe, amplitudes d² = A². */
function validArrays(): Record<string, NdArray> {
  const H = 24;
  const obj = new Float32Array(2 * H * H);
  for (let i = 0; i < H * H; i++) {
    obj[2 * i] = 0.8 + 0.2 * Math.sin(i * 0.37);
    obj[2 * i + 1] = 0.3 * Math.cos(i * 0.11);
  }
  const probe = new Float32Array(2 * N * N);
  for (let y = 0; y < N; y++)
    for (let x = 0; x < N; x++) {
      const r = Math.hypot(x - N / 2 + 0.5, y - N / 2 + 0.5);
      probe[2 * (y * N + x)] = r < 3 ? 1 : 0.05;
      probe[2 * (y * N + x) + 1] = r < 3 ? 0.2 : 0;
    }
  const xs = Float64Array.from({ length: M }, (_, j) => 4 + 3 * j);
  const ys = Float64Array.from({ length: M }, (_, j) => 20 - 2 * j);
  const Y = new Float32Array(2 * M * N * N);
  for (let j = 0; j < M; j++)
    for (let r = 0; r < N; r++)
      for (let c = 0; c < N; c++) {
        const src = 2 * ((ys[j] - N / 2 + r) * H + xs[j] - N / 2 + c);
        Y[2 * (j * N * N + r * N + c)] = obj[src];
        Y[2 * (j * N * N + r * N + c) + 1] = obj[src + 1];
      }
  const Yarr: NdArray = { dtype: 'complex64', shape: [M, N, N], data: Y };
  const probeArr: NdArray = { dtype: 'complex64', shape: [N, N], data: probe };
  const I = forwardIntensity(Yarr, probeArr).data as Float64Array;
  return {
    diffraction: { dtype: 'float32', shape: [M, N, N], data: Float32Array.from(I, Math.sqrt) },
    Y: Yarr,
    probeGuess: probeArr,
    objectGuess: { dtype: 'complex64', shape: [H, H], data: obj },
    xcoords: { dtype: 'float64', shape: [M], data: xs },
    ycoords: { dtype: 'float64', shape: [M], data: ys },
    scan_index: { dtype: 'int64', shape: [M], data: new BigInt64Array(M) },
  };
}

function info(arrays: Record<string, NdArray>, extra: NpzKeyInfo[] = []): NpzKeyInfo[] {
  return [
    ...Object.entries(arrays).map(([key, a]) => ({
      key,
      descr: a.dtype,
      shape: a.shape,
      fortranOrder: false,
      kind: 'numeric' as const,
      dtype: a.dtype,
      compressed: false,
      bytes: 0,
    })),
    ...extra,
  ];
}

function check(
  mutate: (a: Record<string, NdArray>) => void = () => {},
  opts: ContractOptions = {},
  more: Partial<ContractInput> = {},
) {
  const arrays = validArrays();
  mutate(arrays);
  return checkContract({ file: FILE, keys: info(arrays), arrays, ...more }, opts);
}

/** The single error a broken example produces: rule, key, message, found/expected. */
function onlyError(issues: ReturnType<typeof check>, rule: RuleId) {
  const errors = issues.filter((i) => i.severity === 'error');
  expect(errors.map((e) => e.rule)).toEqual([rule]);
  expect(errors[0].message.startsWith(FILE)).toBe(true);
  return errors[0];
}

describe('DATA-001 contract', () => {
  it('accepts a valid file with no issues at all', () => {
    expect(check()).toEqual([]);
  });

  it('required-keys: names the missing keys', () => {
    const e = onlyError(
      check((a) => {
        delete a.probeGuess;
        delete a.ycoords;
      }),
      'required-keys',
    );
    expect(e.message).toContain('missing required NPZ keys (DATA-001): probeGuess, ycoords');
    expect(e.expected).toEqual(['diffraction', 'objectGuess', 'probeGuess', 'xcoords', 'ycoords']);
  });

  it('object-array: a pickled array is an error, a pickled _metadata only a warning', () => {
    const arrays = validArrays();
    const pickled = (key: string): NpzKeyInfo => ({
      key,
      descr: '|O',
      shape: [],
      fortranOrder: false,
      kind: 'object',
      compressed: false,
      bytes: 0,
    });
    const issues = checkContract({ file: FILE, keys: info(arrays, [pickled('extra'), pickled('_metadata')]), arrays });
    const e = onlyError(issues, 'object-array');
    expect(e).toMatchObject({ key: 'extra', found: '|O' });
    expect(e.message).toContain('[extra]: is a pickled object array');
    expect(issues.find((i) => i.key === '_metadata')).toMatchObject({ severity: 'warning', rule: 'object-array' });
  });

  it('unsupported-dtype: a contract key in a dtype we cannot read', () => {
    const arrays = validArrays();
    delete arrays.scan_index;
    const keys = info(arrays, [
      {
        key: 'scan_index',
        descr: '<u2',
        shape: [M],
        fortranOrder: false,
        kind: 'unsupported',
        compressed: false,
        bytes: 0,
      },
    ]);
    const e = onlyError(checkContract({ file: FILE, keys, arrays }), 'unsupported-dtype');
    expect(e.message).toContain('[scan_index]: has unsupported dtype <u2');
  });

  it('diffraction-dtype: integers are refused, float64 is a warning', () => {
    const e = onlyError(
      check((a) => {
        a.diffraction = { ...a.diffraction, dtype: 'int32', data: new Int32Array(M * N * N).fill(1) };
      }),
      'diffraction-dtype',
    );
    expect(e).toMatchObject({ key: 'diffraction', found: 'int32', expected: 'float32' });
    expect(e.message).toContain('must be float amplitudes, found int32');
    const w = check((a) => {
      a.diffraction = {
        ...a.diffraction,
        dtype: 'float64',
        data: Float64Array.from(a.diffraction.data as Float32Array),
      };
    });
    expect(w).toMatchObject([{ rule: 'diffraction-dtype', severity: 'warning' }]);
  });

  it('diffraction-shape: must be (M, N, N)', () => {
    const e = onlyError(
      check((a) => {
        a.diffraction = { ...a.diffraction, shape: [M, N * 2, N / 2] };
      }),
      'diffraction-shape',
    );
    expect(e.message).toContain('must be (M, N, N), found (6, 16, 4)');
  });

  it('empty: a file with no patterns', () => {
    const issues = check((a) => {
      a.diffraction = { dtype: 'float32', shape: [0, N, N], data: new Float32Array(0) };
      a.xcoords = { dtype: 'float64', shape: [0], data: new Float64Array(0) };
      a.ycoords = { dtype: 'float64', shape: [0], data: new Float64Array(0) };
      a.Y = { dtype: 'complex64', shape: [0, N, N], data: new Float32Array(0) };
      a.scan_index = { dtype: 'int64', shape: [0], data: new BigInt64Array(0) };
    });
    expect(onlyError(issues, 'empty').message).toContain('holds no patterns');
  });

  it('probe-dtype and probe-shape', () => {
    const e = onlyError(
      check((a) => {
        a.probeGuess = { dtype: 'float32', shape: [N, N], data: new Float32Array(N * N).fill(1) };
      }),
      'probe-dtype',
    );
    expect(e.message).toContain('[probeGuess]: must be complex, found float32');
    const s = onlyError(
      check((a) => {
        a.probeGuess = { dtype: 'complex64', shape: [N + 2, N + 2], data: new Float32Array(2 * (N + 2) ** 2).fill(1) };
      }),
      'probe-shape',
    );
    expect(s).toMatchObject({ found: '(10, 10)', expected: '(8, 8)' });
  });

  it('object-dtype and object-shape', () => {
    const e = onlyError(
      check((a) => {
        a.objectGuess = { dtype: 'float64', shape: [24, 24], data: new Float64Array(24 * 24) };
      }),
      'object-dtype',
    );
    expect(e.message).toContain('[objectGuess]: must be complex, found float64');
    const s = onlyError(
      check((a) => {
        a.objectGuess = { dtype: 'complex64', shape: [4, 24], data: new Float32Array(2 * 4 * 24).fill(1) };
      }),
      'object-shape',
    );
    expect(s.message).toContain('at least N × N, found (4, 24)');
  });

  it('coords-dtype: positions must be floats', () => {
    const e = onlyError(
      check((a) => {
        a.xcoords = { dtype: 'int32', shape: [M], data: Int32Array.from(a.xcoords.data as Float64Array) };
      }),
      'coords-dtype',
    );
    expect(e).toMatchObject({ key: 'xcoords', found: 'int32', expected: 'float64' });
  });

  it('coords-length: names the key and both lengths', () => {
    const e = onlyError(
      check((a) => {
        a.ycoords = { dtype: 'float64', shape: [M - 1], data: (a.ycoords.data as Float64Array).slice(1) };
      }),
      'coords-length',
    );
    expect(e.message).toContain('ycoords length (5,) != diffraction first axis 6');
  });

  it('y-dtype and y-shape', () => {
    const e = onlyError(
      check((a) => {
        a.Y = { dtype: 'float32', shape: [M, N, N], data: new Float32Array(M * N * N) };
      }),
      'y-dtype',
    );
    expect(e.message).toContain('[Y]: must be complex');
    const s = onlyError(
      check((a) => {
        a.Y = { dtype: 'complex64', shape: [M, N / 2, N / 2], data: new Float32Array(2 * M * (N / 2) ** 2) };
      }),
      'y-shape',
    );
    expect(s.message).toContain('must be (M, P, P) with P ≥ N, found (6, 4, 4)');
  });

  it('scan-index: integer (M,)', () => {
    const e = onlyError(
      check((a) => {
        a.scan_index = { dtype: 'float32', shape: [M], data: new Float32Array(M) };
      }),
      'scan-index',
    );
    expect(e.message).toContain('must be integer (M,), found float32 (6,)');
  });

  it('finite: counts NaN/Inf and points at the first one', () => {
    const e = onlyError(
      check((a) => {
        (a.diffraction.data as Float32Array)[5] = Number.NaN;
        (a.diffraction.data as Float32Array)[9] = Number.POSITIVE_INFINITY;
      }),
      'finite',
    );
    expect(e.message).toContain('[diffraction]: has 2 non-finite values (first at flat index 5)');
  });

  it('diffraction-negative: amplitudes are never negative', () => {
    const e = onlyError(
      check((a) => {
        (a.diffraction.data as Float32Array)[3] = -0.5;
      }),
      'diffraction-negative',
    );
    expect(e.message).toContain('has 1 negative values (min -0.5)');
  });

  it('probe-energy: an all-zero probe illuminates nothing', () => {
    const issues = check((a) => {
      (a.probeGuess.data as Float32Array).fill(0);
    });
    expect(onlyError(issues, 'probe-energy').message).toContain('is zero everywhere');
  });

  it('amplitude-not-intensity: integer counts are recognised', () => {
    const e = onlyError(
      check((a) => {
        const d = a.diffraction.data as Float32Array;
        for (let i = 0; i < d.length; i++) d[i] = [0, 2, 3, 5, 7][i % 5];
      }),
      'amplitude-not-intensity',
    );
    expect(e.message).toContain('look like photon counts (intensity)');
  });

  it('amplitude-not-intensity: stored intensity follows |F(P·Y)|² linearly', () => {
    const e = onlyError(
      check((a) => {
        const d = a.diffraction.data as Float32Array;
        for (let i = 0; i < d.length; i++) d[i] = 3.7 * d[i] * d[i]; // scaled intensity, not integers
      }),
      'amplitude-not-intensity',
    );
    expect(e.message).toMatch(/log-log slope of the binned mean d² is (1\.9|2\.[01])\d, r = (0\.99\d|1\.000)/);
  });

  it('dose-consistency: the recorded dose and intensity scale must reproduce the counts', () => {
    const ok = check(undefined, {}, { metadata: { dose: 1000, intensity_scale: Math.sqrt(1000 / sumSq()) } });
    expect(ok).toEqual([]);
    const e = onlyError(
      check(undefined, {}, { metadata: { dose: 1e5, intensity_scale: Math.sqrt(1000 / sumSq()) } }),
      'dose-consistency',
    );
    expect(e.message).toContain('averages 1000 photons per pattern but the recorded dose is 100000');
  });

  it('coords-in-object: positions whose patch leaves the object are a warning', () => {
    const issues = check((a) => {
      (a.xcoords.data as Float64Array)[0] = 1;
    });
    expect(issues).toMatchObject([{ rule: 'coords-in-object', severity: 'warning' }]);
    expect(issues[0].message).toContain('1 of 6 scan positions');
  });

  it('oversampling: gridsize 2 needs neighbor_count ≥ 4 (OVERSAMPLING-001)', () => {
    expect(check(undefined, { gridsize: 2, neighborCount: 7 })).toEqual([]);
    const e = onlyError(check(undefined, { gridsize: 2, neighborCount: 3 }), 'oversampling');
    expect(e.message).toContain('gridsize 2 needs neighbor_count ≥ gridsize² = 4 (OVERSAMPLING-001)');
  });

  it('metadata: a _metadata string that is not JSON is a warning', () => {
    const arrays = validArrays();
    const keys = info(arrays, [
      { key: '_metadata', descr: '<U3', shape: [], fortranOrder: false, kind: 'text', compressed: false, bytes: 12 },
    ]);
    expect(checkContract({ file: FILE, keys, arrays })).toMatchObject([{ rule: 'metadata', severity: 'warning' }]);
  });
});

function sumSq(): number {
  const d = validArrays().diffraction.data as Float32Array;
  let s = 0;
  for (const v of d) s += v * v;
  return s / M;
}
