/**
 * The device bundle is self-contained: built by `npm run gpu:bundle`, copied outside the
 * repository (so the repo's node_modules cannot be found), `run.sh --accelerator cpu
 * --quick` unpacks its own Node and onnxruntime-node and writes its JSON.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/cli';

const work = mkdtempSync(join(tmpdir(), 'ptycho-gpu-bundle-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('GPU device bundle', () => {
  it('builds under 60 MiB and runs the CPU checks from a copy outside the repo', { timeout: 900_000 }, () => {
    const bundle = join(work, 'bundle');
    const b = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gpu-bundle.mjs'), '--out', bundle], {
      encoding: 'utf8',
    });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/gpu bundle: .* \((\d+\.\d) MiB\)/);
    const mib = Number(/\((\d+\.\d) MiB\)/.exec(b.stdout)![1]);
    expect(mib).toBeLessThan(60);

    const copy = join(work, 'elsewhere', 'bundle');
    cpSync(bundle, copy, { recursive: true });
    const out = join(work, 'out');
    // A minimal environment: nothing of the repository is reachable from here.
    const r = spawnSync('bash', [join(copy, 'run.sh'), '--accelerator', 'cpu', '--quick', '--profile', '--out', out], {
      cwd: join(work, 'elsewhere'),
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TMPDIR: work },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(existsSync(join(out, 'gpu-checks.json'))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'gpu-checks.json'), 'utf8'));
    expect(report.provider).toBe('cpu');
    expect(report.op_parity_passed).toBe(report.op_parity.length);
    expect(report.throughput[0].samples_per_s).toBeGreaterThan(0);
    expect(report.training.cpu.status).toBe('done');
    expect(Number.isFinite(report.training.cpu.final_loss)).toBe(true);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
    // --profile: onnxruntime's profile of gs1 and gs2, reduced to per-step costs by operator.
    expect(report.profile.map((p: { gridsize: number }) => p.gridsize)).toEqual([1, 2]);
    for (const p of report.profile) {
      expect(p.runs).toBe(5);
      expect(p.by_category.Node).toBeGreaterThan(0);
      expect(p.top.map((t: { key: string }) => t.key)).toContain('Conv');
    }
    expect(readFileSync(join(out, 'run.log'), 'utf8')).toMatch(/profile gs2 b16: .* ms per profiled step; largest: /);
  });
});
