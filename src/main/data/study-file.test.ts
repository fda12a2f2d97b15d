import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPython } from '../util/python';
import { loadStudyFile } from './study-file';

const dir = mkdtempSync(join(tmpdir(), 'study-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An original-style PtychoPINN file: float64 amplitudes, 128-px Y, pickled _metadata. */
const ORIGINAL = `
import numpy as np, sys
rng = np.random.default_rng(0)
M, N, P, H = 6, 16, 32, 64
obj = (0.8 + 0.2 * rng.random((H, H))) * np.exp(1j * rng.random((H, H)))
probe = np.zeros((N, N), complex); probe[4:12, 4:12] = 1
xs = rng.integers(P // 2, H - P // 2, M).astype(float); ys = rng.integers(P // 2, H - P // 2, M).astype(float)
Y = np.stack([obj[int(y) - P // 2:int(y) + P // 2, int(x) - P // 2:int(x) + P // 2] for x, y in zip(xs, ys)])
Yc = Y[:, (P - N) // 2:(P + N) // 2, (P - N) // 2:(P + N) // 2]
I = np.abs(np.fft.fftshift(np.fft.fft2(Yc * probe), axes=(-2, -1))) ** 2 / N ** 2
np.savez(sys.argv[1], diffraction=np.sqrt(rng.poisson(I * 50)) / 7.0, Y=Y.astype(np.complex64),
         objectGuess=obj.astype(np.complex64), probeGuess=probe.astype(np.complex64), xcoords=xs, ycoords=ys,
         xcoords_start=xs, ycoords_start=ys, scan_index=np.zeros(M, np.int64),
         _metadata=np.array({'nphotons': 1e3}, dtype=object))
`;

describe('loadStudyFile', () => {
  it('reads an original PtychoPINN file: pickled metadata skipped, float64 and larger Y converted', async () => {
    const path = join(dir, 'original.npz');
    runPython(['numpy'], ORIGINAL, [path]);
    const seen: string[] = [];
    const f = await loadStudyFile(path, { onWarning: (w) => seen.push(w) });
    expect(f.M).toBe(6);
    expect(f.N).toBe(16);
    expect(f.diffraction.dtype).toBe('float32');
    expect(f.Y?.shape).toEqual([6, 16, 16]);
    expect(f.Y?.dtype).toBe('complex64');
    expect(f.probeGuess.shape).toEqual([16, 16]);
    expect(f.objectGuess.shape).toEqual([64, 64]);
    expect(f.xcoords).toBeInstanceOf(Float64Array);
    expect(f.meta).toEqual({});
    expect(seen.join('\n')).toMatch(/pickled metadata skipped \(never unpickled\)/);
    expect(seen.join('\n')).toMatch(/float64; it is read as float32/);
    expect(seen.join('\n')).toMatch(/cropped to the central 16 × 16/);
    expect(f.warnings).toEqual(seen);
  });

  it("reads the original's raw key diff3d as diffraction, with a warning", async () => {
    const path = join(dir, 'raw.npz');
    runPython(
      ['numpy'],
      `import numpy as np, sys
np.savez(sys.argv[1], diff3d=np.full((3, 8, 8), 0.5, np.float32), objectGuess=np.ones((16, 16), np.complex64),
         probeGuess=np.ones((8, 8), np.complex64), xcoords=np.full(3, 8.0), ycoords=np.full(3, 8.0))`,
      [path],
    );
    const f = await loadStudyFile(path);
    expect(f.diffraction.shape).toEqual([3, 8, 8]);
    expect(f.warnings.join()).toContain("[diffraction]: read from the original's raw key 'diff3d'");
  });

  it('throws DATA_CONTRACT naming the file, the key, found and expected', async () => {
    const path = join(dir, 'short-coords.npz');
    runPython(
      ['numpy'],
      `import numpy as np, sys
np.savez(sys.argv[1], diffraction=np.ones((10, 8, 8), np.float32), objectGuess=np.ones((16, 16), np.complex64),
         probeGuess=np.ones((8, 8), np.complex64), xcoords=np.full(5, 8.0), ycoords=np.full(10, 8.0))`,
      [path],
    );
    await expect(loadStudyFile(path)).rejects.toMatchObject({
      code: 'DATA_CONTRACT',
      message: expect.stringContaining('xcoords length (5,) != diffraction first axis 10'),
      details: { file: path, key: 'xcoords', found: '(5,)', expected: '(10,)' },
    });
  });
});
