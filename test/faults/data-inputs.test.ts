/**
 * Faults in what the user points the data commands at. What must hold: `validate` on an
 * empty folder fails (exit 1) and says there was nothing to check; a folder where a file is
 * expected is named in the error (not a bare EISDIR); intensities stored as amplitudes
 * without `_metadata` fail `validate` at a low dose (1e3, and 1e2) while real amplitudes pass.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNpz, writeNpz } from '../../src/main/data/npz';
import { simulatePhaseC } from '../../src/main/data/simulate';
import { loadStudyFile } from '../../src/main/data/study-file';
import { validateStudyFile } from '../../src/main/data/validate';
import { runCliSync } from '../helpers/cli';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fault-inputs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('validate and evaluate on folders', () => {
  it('validate on an empty folder exits 1 and says there was nothing to check', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = runCliSync(['validate', empty]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${empty}: no .npz files in this folder (nothing to validate)`);
    const j = runCliSync(['validate', empty, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).ok).toBe(false);
  });

  it('evaluate where the manifest is a folder names the path instead of a bare EISDIR', () => {
    const root = join(dir, 'artifacts');
    mkdirSync(join(root, 'training_manifest.json'), { recursive: true });
    const r = runCliSync(['evaluate', '--artifact-root', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(root, 'training_manifest.json')} is a folder where a file was expected`);
  });

  it('a folder given as a data file is named', async () => {
    const folder = join(dir, 'patched_train.npz');
    mkdirSync(folder, { recursive: true });
    await expect(loadStudyFile(folder)).rejects.toThrow(folder);
  });
});

describe('intensity stored as amplitude, without _metadata', () => {
  for (const dose of [1e2, 1e3]) {
    it(`fails validate at dose ${dose}; the real amplitudes pass`, async () => {
      const s = await simulatePhaseC(join(dir, `phase_c_${dose}`), { objectSize: 160, nPositions: 96, doses: [dose] });
      const a = await readNpz(s.doses[0].train.path); // numeric keys only: _metadata is left out
      const amplitude = join(dir, `amplitude_${dose}.npz`);
      await writeNpz(amplitude, a);
      const d = a.diffraction.data as Float32Array;
      const intensity = join(dir, `intensity_${dose}.npz`);
      await writeNpz(intensity, { ...a, diffraction: { ...a.diffraction, data: Float32Array.from(d, (x) => x * x) } });
      expect((await validateStudyFile(amplitude)).ok).toBe(true);
      const r = await validateStudyFile(intensity);
      expect(r.ok).toBe(false);
      expect(r.errors.map((e) => e.rule)).toContain('amplitude-not-intensity');
    });
  }
});
