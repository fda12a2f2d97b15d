/**
 * Fixed seeds must keep giving the same data and the same initial weights: a study's recorded
 * seed is a promise that rerunning it reproduces the run. These hashes were taken from the
 * code as it stood before the seeded generators and the FFTs were merged into
 * src/main/numeric/; any change to a stream, a draw order or a transform's rounding shows
 * here as a different hash.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpz } from '../src/main/data/npz';
import { buildOverlapViews } from '../src/main/data/overlap';
import { simulatePhaseC } from '../src/main/data/simulate';
import { groupScanPoints } from '../src/main/pinn/grouping';
import { buildPinnGraph } from '../src/main/pinn/model';

function sha256(parts: (string | ArrayBufferView)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return h.digest('hex');
}

function npzFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.npz')) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** One hash per NPZ file over its keys' names, dtypes, shapes and raw bytes (not the zip's timestamps). */
async function hashNpzTree(root: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const file of npzFiles(root)) {
    const arrays = await readNpz(file);
    const parts: (string | ArrayBufferView)[] = [];
    for (const key of Object.keys(arrays).sort()) {
      const a = arrays[key];
      parts.push(`${key}:${a.dtype}:${a.shape.join('x')};`);
      if (ArrayBuffer.isView(a.data)) parts.push(a.data as ArrayBufferView);
      else parts.push(JSON.stringify(a.data));
    }
    hashes[relative(root, file)] = sha256(parts);
  }
  return hashes;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'seeded-streams-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fixed seeds give byte-identical data and weights', () => {
  it('simulate (seed 7, N = 32, two doses) writes the same arrays', async () => {
    await simulatePhaseC(join(root, 'phase_c'), {
      N: 32,
      objectSize: 128,
      nPositions: 96,
      doses: [1e3, 1e5],
      seed: 7,
      probeDiameterPx: 0.6 * 32,
    });
    expect(await hashNpzTree(join(root, 'phase_c'))).toEqual(SIMULATE_HASHES);
  });

  it('the overlap views of that simulation select the same positions', async () => {
    await buildOverlapViews(join(root, 'phase_c'), join(root, 'phase_d'), { minPositions: 2 });
    expect(await hashNpzTree(join(root, 'phase_d'))).toEqual(OVERLAP_HASHES);
  });

  it('the trainer groups the same scan points for a seed', async () => {
    const train = await readNpz(join(root, 'phase_c', 'dose_1000', 'patched_train.npz'), ['xcoords', 'ycoords']);
    const xs = train.xcoords.data as ArrayLike<number>;
    const ys = train.ycoords.data as ArrayLike<number>;
    const groups = groupScanPoints(xs, ys, { gridsize: 2, seed: 3, neighborCount: 7, nGroups: 20 });
    expect(sha256([groups.indices, groups.offsets])).toBe(GROUPING_HASH);
  });

  it('the model starts from the same weights for a seed', () => {
    const N = 32;
    const probe = { re: new Float32Array(N * N).fill(1), im: new Float32Array(N * N) };
    const hashes: Record<string, string> = {};
    for (const [seed, gridsize] of [
      [1, 1],
      [42, 2],
    ]) {
      const pg = buildPinnGraph(
        {
          N,
          gridsize,
          nFiltersScale: 1,
          ampActivation: 'sigmoid',
          probeBig: true,
          probeMask: false,
          intensityScaleTrainable: true,
          seed,
          batch: 2,
        },
        probe,
        10,
        false,
      );
      const parts: (string | ArrayBufferView)[] = [];
      for (const p of pg.graph.params) parts.push(`${p.name};`, p.init);
      hashes[`seed${seed}-gs${gridsize}`] = sha256(parts);
    }
    expect(hashes).toEqual(WEIGHT_HASHES);
  });
});

const SIMULATE_HASHES: Record<string, string> = {
  'dose_1000/patched_test.npz': '81891c2cd8f56f72fd3ddcbc124fc47c78aeb1311be04aa091412c33bd53b913',
  'dose_1000/patched_train.npz': '5216465523f549432cdae7793bc268d0bba3bca4fcc0a843119c971a2d55c955',
  'dose_100000/patched_test.npz': 'd0dbc4808f03eaf9ce23ea87ee6cde893d7982138c36619a00ebb91c30dd5922',
  'dose_100000/patched_train.npz': 'c4d2d13bf41b3e435146ec4f5e16edf62da249675153116fe0f47734691b7c5b',
};
const OVERLAP_HASHES: Record<string, string> = {
  'dose_1000/dense/dense_test.npz': 'a7b2106343426f1da5f70d09785bddcc7c91684e286a3e739599d37e157a5df7',
  'dose_1000/dense/dense_train.npz': '93068d355a2b225f4e89140bd687ee8aa57f66b3fe5008fe62e03a38544ae838',
  'dose_1000/sparse/sparse_test.npz': 'deddd43ec0a0cad1bb37fd3e01c1bb6ada2cb06eb0341ca9a5fa11de168654b6',
  'dose_1000/sparse/sparse_train.npz': '34ab86f3d47df624c1b0be1ebc1f92576dd1027d6e3c99ac31a0e2e3504ab1bf',
  'dose_100000/dense/dense_test.npz': '851392dba5ea26a6438618facaf4c01557586601e10e14ed1804506a5e843085',
  'dose_100000/dense/dense_train.npz': '41c9d8dd5abcb7e77d523c0bf9bd2031837272f2709a3ccd25b6df9cae48bda3',
  'dose_100000/sparse/sparse_test.npz': 'fc7585194a615227e4fcd272ed9ee4c437679409e86926550227effff2f0c71e',
  'dose_100000/sparse/sparse_train.npz': 'f08a80f49467b06fb329d004451a3cab4e7d5ba1070c471ba6087ba10d5def64',
};
const GROUPING_HASH = '8db0a5f332861d4269cb32ebc92bf45fe7e1ad62e83bb91703b608150fdb9a37';
const WEIGHT_HASHES: Record<string, string> = {
  'seed1-gs1': '3fa02997755170062504f7ac0c463fbb5fbc21654eb8a4896b5627db52f4173d',
  'seed42-gs2': 'd0d08e9665072308926bb332fd5fb9c70b6fc9c54ec5f3fe561709424f458775',
};
