/**
 * Fault: a `simulate` or `overlap` run that fails (bad settings, a file that breaks DATA-001,
 * a request too large for memory, a kill) over existing data. What must hold: every existing
 * file keeps its bytes, no staging folder is left, the error says what was wrong, and a
 * staging folder left by a killed run is removed by the next run and ignored by readers.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildOverlapViews, phaseCDoses } from '../../src/main/data/overlap';
import { simulatePhaseC } from '../../src/main/data/simulate';
import * as validate from '../../src/main/data/validate';
import { cliBin, runCliSync } from '../helpers/cli';

vi.mock('../../src/main/data/validate', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/main/data/validate')>();
  return { ...real, validateStudyFile: vi.fn(real.validateStudyFile) };
});

const SMALL = { objectSize: 160, nPositions: 96, doses: [1e3] };
let dir: string;
let phaseC: string;
let phaseD: string;

function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(root, { recursive: true, encoding: 'utf8' }).sort()) {
    const p = join(root, f);
    try {
      out[relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    } catch {
      out[relative(root, p)] = 'dir';
    }
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fault-data-'));
  phaseC = join(dir, 'phase_c');
  phaseD = join(dir, 'phase_d');
  await simulatePhaseC(phaseC, SMALL);
  await buildOverlapViews(phaseC, phaseD, { views: [{ name: 'dense', overlap_fraction: 0.7 }], minPositions: 8 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failValidationOnce = () =>
  vi.mocked(validate.validateStudyFile).mockImplementationOnce(async (file) => ({
    file,
    ok: false,
    keys: [],
    errors: [{ rule: 'unreadable', severity: 'error', file, key: 'diffraction', message: `${file}: injected failure` }],
    warnings: [],
  }));

describe('a failed simulate keeps the existing Phase C data', () => {
  it('a file that fails validation replaces nothing', async () => {
    const before = snapshot(phaseC);
    failValidationOnce();
    await expect(simulatePhaseC(phaseC, { ...SMALL, seed: 7 })).rejects.toThrow(
      /failed DATA-001 \(nothing in .* was replaced\): .*phase_c\/dose_1000\/patched_train\.npz: injected failure/,
    );
    expect(snapshot(phaseC)).toEqual(before);
  });

  it('simulate --object-size 10 over an existing study is refused up front, naming the sizes', () => {
    const before = snapshot(phaseC);
    const r = runCliSync(['simulate', '--out', phaseC, '--preset', 'demo', '--doses', '1e3', '--object-size', '10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the object (10 × 10) must be larger than the 64 × 64 probe');
    expect(snapshot(phaseC)).toEqual(before);
  });

  it('simulate --n-positions 1e9 is refused before allocating, with the memory numbers', () => {
    const before = snapshot(phaseC);
    const t0 = Date.now();
    const r = runCliSync(['simulate', '--out', phaseC, '--preset', 'demo', '--n-positions', '1000000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TOO_LARGE: simulate --n-positions 1000000000 at N = 64 .* needs (an array of|about)/);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(snapshot(phaseC)).toEqual(before);
  });

  it('a request over the available memory is refused with both numbers', () => {
    const r = runCliSync(['simulate', '--out', phaseC, '--preset', 'demo', '--n-positions', '20000'], {
      env: { PTYCHO_STUDY_MEMORY_BYTES: String(2 ** 30) },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs about [\d.]+ GiB of memory; 1\.0 GiB is available/);
  });

  it('a staging folder left by a killed run is ignored by readers and removed by the next run', async () => {
    const leftover = join(phaseC, `.staging.${2 ** 22 + 999}.0a1b2c3d.tmp`);
    mkdirSync(join(leftover, 'dose_5000'), { recursive: true });
    writeFileSync(join(leftover, 'dose_5000', 'patched_train.npz'), 'half a file');
    writeFileSync(join(leftover, 'dose_5000', 'patched_test.npz'), 'half a file');
    const old = new Date(Date.now() - 120_000);
    utimesSync(leftover, old, old);
    expect(phaseCDoses(phaseC)).toEqual([1000]);
    const v = runCliSync(['validate', phaseC, '--json']);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).files.map((f: { file: string }) => relative(phaseC, f.file))).toEqual([
      'dose_1000/patched_test.npz',
      'dose_1000/patched_train.npz',
    ]);
    await simulatePhaseC(phaseC, SMALL);
    expect(readdirSync(phaseC).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('a failed overlap keeps the existing Phase D views', () => {
  it('a view file that fails validation replaces nothing', async () => {
    const before = snapshot(phaseD);
    failValidationOnce();
    await expect(
      buildOverlapViews(phaseC, phaseD, {
        views: [{ name: 'dense', overlap_fraction: 0.6 }],
        minPositions: 8,
      }),
    ).rejects.toThrow(/failed DATA-001 \(nothing in .*phase_d was replaced\)/);
    expect(snapshot(phaseD)).toEqual(before);
  });
});

describe('simulate killed with SIGKILL mid-write', () => {
  it('leaves the previous data whole and only a hidden staging folder, which the next run removes', async () => {
    const root = join(dir, 'killed');
    const args = ['simulate', '--out', root, '--preset', 'demo', '--n-positions', '600', '--doses', '1e3', '1e4'];
    expect(runCliSync(args).code).toBe(0);
    const visible = () => Object.fromEntries(Object.entries(snapshot(root)).filter(([k]) => !k.startsWith('.')));
    const before = visible();
    const child = spawn(process.execPath, [cliBin, ...args], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', (_c, sig) => r(sig)));
    // kill once the run has begun writing its files (a staged .npz or its temp file exists)
    const writing = () =>
      readdirSync(root, { recursive: true, encoding: 'utf8' }).some((f) => f.startsWith('.staging.') && /npz/.test(f));
    for (let i = 0; i < 3000 && !writing() && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10));
    expect(writing()).toBe(true);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(visible()).toEqual(before);
    const hidden = readdirSync(root).filter((n) => n.startsWith('.'));
    expect(hidden).toHaveLength(1);
    expect(hidden[0]).toMatch(new RegExp(`^\\.staging\\.${child.pid}\\.[0-9a-f]{8}\\.tmp$`));
    expect(phaseCDoses(root)).toEqual([1000, 10000]);
    // a minute later (the grace for a writer on another host), the next run removes it
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(root, hidden[0]), old, old);
    expect(runCliSync(args).code).toBe(0);
    expect(readdirSync(root).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(visible()).toEqual(before);
  });
});
