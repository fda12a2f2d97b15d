import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliSync, startCli } from '../../../../test/helpers/cli';
import { runPython } from '../../util/python';

const dir = mkdtempSync(join(tmpdir(), 'data-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const phaseC = join(dir, 'phase_c');
const phaseD = join(dir, 'phase_d');

describe('simulate, overlap and validate commands', () => {
  it('simulate writes Phase C (original flag names and underscore spellings accepted) and prints JSON', () => {
    const r = runCliSync(
      [
        'simulate',
        '--output-root',
        phaseC,
        '--n_images',
        '240',
        '--object-size',
        '256',
        '--doses',
        '1e3',
        '1e4',
        '--seed',
        '3',
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.settings).toMatchObject({ N: 64, nPositions: 240, objectSize: 256, doses: [1000, 10000], seed: 3 });
    expect(summary.doses.map((d: { folder: string }) => d.folder)).toEqual(['dose_1000', 'dose_10000']);
    for (const d of ['dose_1000', 'dose_10000'])
      expect(readdirSync(join(phaseC, d)).sort()).toEqual(['patched_test.npz', 'patched_train.npz']);
  });

  it('overlap writes the dense and sparse views and reports the measured overlap', () => {
    const r = runCliSync(['overlap', '--phase-c-root', phaseC, '--out', phaseD, '--min-positions', '4', '--json'], {
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.views.map((v: { dose: number; view: string }) => `${v.dose}/${v.view}`)).toEqual([
      '1000/dense',
      '1000/sparse',
      '10000/dense',
      '10000/sparse',
    ]);
    expect(existsSync(join(phaseD, 'dose_10000', 'sparse', 'metrics_bundle.json'))).toBe(true);
  });

  it('overlap refuses a view below its minimum size with one line naming the numbers', () => {
    const r = runCliSync(['overlap', '--phase-c-root', phaseC, '--out', join(dir, 'none'), '--min-positions', '500']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^error: DATA_CONTRACT: overlap view too small \(need ≥ 500 positions per split\): dose_1000 dense train: \d+ of \d+ positions at spacing S = 11\.5 px/,
    );
    expect(existsSync(join(dir, 'none'))).toBe(false);
  });

  it('validate passes every written file and fails a file of intensities, naming file and key', () => {
    const files = [phaseC, phaseD].flatMap((root) =>
      readdirSync(root, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.npz'))
        .map((f) => join(root, f)),
    );
    expect(files).toHaveLength(12);
    const ok = runCliSync(['validate', phaseC, phaseD, '--json']);
    expect(ok.code, ok.stdout).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report.ok).toBe(true);
    expect(report.files.map((f: { file: string }) => f.file).sort()).toEqual([...files].sort());

    const bad = join(dir, 'counts.npz');
    runPython(
      ['numpy'],
      `import numpy as np, sys
src = np.load(sys.argv[1], allow_pickle=False)
counts = np.round((src['diffraction'].astype(np.float64) * 3.0) ** 2).astype(np.float32)
np.savez(sys.argv[2], **{k: src[k] for k in src.files if k not in ('diffraction', '_metadata')}, diffraction=counts)`,
      [files[0], bad],
    );
    const r = runCliSync(['validate', files[0], bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✔ ${files[0]}`);
    expect(r.stdout).toContain(`✘ ${bad}`);
    expect(r.stdout).toMatch(
      new RegExp(`error   amplitude-not-intensity: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\[diffraction\\]`),
    );
    expect(r.stdout).toContain('1 of 2 files pass DATA-001');
  });

  it('simulate without an output root is a usage error', () => {
    const r = runCliSync(['simulate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('simulate needs --out PHASE_C_ROOT');
  });

  it('serve --demo creates the demo study first and keeps stdout to the one Workbench line', async () => {
    const workspace = join(dir, 'ws');
    const cli = startCli(['serve', '--demo', '--workspace', workspace, '--port', '0'], /Workbench: \S+\n/);
    try {
      await cli.ready;
      expect(cli.stdout().trim().split('\n')).toHaveLength(1);
      for (const d of ['dose_1000', 'dose_10000', 'dose_100000']) {
        expect(existsSync(join(workspace, 'phase_c', d, 'patched_train.npz'))).toBe(true);
        expect(existsSync(join(workspace, 'phase_d', d, 'sparse', 'sparse_test.npz'))).toBe(true);
      }
    } finally {
      await cli.stop();
    }
  });
});
