import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCliSync } from '../../../../test/helpers/cli';
import { TrainingManifest } from '../../../shared/manifest';
import { createPlaceholderLayout } from '../../../../test/fixtures/fixture-layout';
import { runCli } from '../run';
import type { StudyRoots } from '../../study/jobs';

let dir: string;
let roots: StudyRoots;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
  roots = createPlaceholderLayout(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const rootFlags = () => ['--phase-c-root', 'phase_c', '--phase-d-root', 'phase_d', '--artifact-root', 'artifacts'];

function train(args: string[]) {
  return runCliSync(['train', ...rootFlags(), ...args], { cwd: dir });
}

function manifest(): TrainingManifest {
  return TrainingManifest.parse(JSON.parse(readFileSync(join(roots.artifactRoot, 'training_manifest.json'), 'utf8')));
}

describe('ptycho-study train', () => {
  it("runs seed 003's dry-run command unchanged and records one dry-run job", () => {
    const r = train(['--dose', '1000', '--view', 'baseline', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('  → 9 total jobs enumerated');
    expect(lines).toContain('  → Filtered by dose=1000: 3 jobs remain');
    expect(lines).toContain('  → Filtered by view=baseline: 1 jobs remain');
    expect(lines).toContain('  [1/1] baseline (dose=1e+03, gridsize=1) → planned (dry run)');
    expect(lines).toContain(`✓ Training manifest written to ${join(roots.artifactRoot, 'training_manifest.json')}`);
    const m = manifest();
    expect(m.dry_run).toBe(true);
    expect(m.filters).toEqual({ dose: 1000, view: 'baseline', gridsize: null });
    expect(m.phase_c_root).toBe(roots.phaseCRoot);
    expect(m.jobs).toHaveLength(1);
    expect(m.jobs[0]).toMatchObject({
      id: 'dose_1000-baseline-gs1',
      dose: 1000,
      view: 'baseline',
      gridsize: 1,
      status: 'planned',
      dry_run: true,
      train_data_path: join(roots.phaseCRoot, 'dose_1000', 'patched_train.npz'),
      log_path: join(roots.artifactRoot, 'dose_1000', 'baseline', 'gs1', 'train.log'),
    });
    expect(m.jobs[0].result).toMatchObject({ dry_run: true, status: 'planned' });
    expect(readFileSync(m.jobs[0].log_path, 'utf8')).toMatch(/^DRY RUN: baseline dose=1000 gridsize=1\n/);
    expect(JSON.parse(readFileSync(join(roots.artifactRoot, 'skip_summary.json'), 'utf8'))).toMatchObject({
      skipped_count: 0,
      skipped_views: [],
    });
  });

  it('a full-matrix dry run lists nine jobs', () => {
    const r = train(['--dry-run']);
    expect(r.code).toBe(0);
    for (let i = 1; i <= 9; i++) expect(r.stdout).toContain(`  [${i}/9] `);
    const m = manifest();
    expect(m.jobs.map((j) => j.status)).toEqual(Array(9).fill('planned'));
    expect(m.runs[0].job_ids).toHaveLength(9);
  });

  it('filters: none 9, dose 3, view 3, gridsize 2 → 6, combined 1', async () => {
    // In-process (same argv path as the binary) to keep the suite fast; the spawned tests cover the binary.
    const cases: [string[], number][] = [
      [[], 9],
      [['--dose', '1000'], 3],
      [['--view', 'baseline'], 3],
      [['--gridsize', '2'], 6],
      [['--dose', '10000', '--view', 'dense', '--gridsize', '2'], 1],
      [['--job', 'dose_1000-dense-gs2,dose_100000-sparse-gs2'], 2],
    ];
    const absRoots = [
      '--phase-c-root',
      roots.phaseCRoot,
      '--phase-d-root',
      roots.phaseDRoot,
      '--artifact-root',
      roots.artifactRoot,
    ];
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      out.push(a.join(' '));
    });
    try {
      for (const [flags, n] of cases) {
        out.length = 0;
        expect(await runCli(['train', ...absRoots, ...flags, '--dry_run'])).toBe(0);
        expect(manifest().runs.at(-1)?.job_ids).toHaveLength(n);
        expect(out.join('\n')).toContain(`Executing ${n} training job(s)`);
      }
    } finally {
      log.mockRestore();
    }
    const runs = manifest().runs;
    expect(runs.at(-2)?.job_ids).toEqual(['dose_10000-dense-gs2']);
    expect(runs.at(-1)?.job_ids).toEqual(['dose_1000-dense-gs2', 'dose_100000-sparse-gs2']);
  });

  it('takes the design from a study file', () => {
    writeFileSync(join(dir, 'study.json'), JSON.stringify({ doses: [1000], neighbor_count: 6 }));
    const r = train(['--study', 'study.json', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  → 3 total jobs enumerated');
    const m = manifest();
    expect(m.design).toMatchObject({ doses: [1000], neighbor_count: 6 });
    expect(m.jobs.every((j) => j.config?.training.neighbor_count === 6)).toBe(true);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ dosez: [1] }));
    const bad = train(['--study', 'bad.json', '--dry-run']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: BAD_INPUT: study file: .*dosez/);
  });

  it('exits 2 when no job matches and leaves an existing manifest untouched', () => {
    expect(train(['--dose', '1000', '--dry-run']).code).toBe(0);
    const path = join(roots.artifactRoot, 'training_manifest.json');
    const before = readFileSync(path, 'utf8');
    const mtime = statSync(path).mtimeMs;
    const r = train(['--dose', '5000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No jobs match the specified filters (dose=5000)');
    expect(r.stderr).toContain('Available: doses 1000, 10000, 100000; views baseline, dense, sparse; gridsizes 1, 2');
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(train(['--view', 'baseline', '--gridsize', '2']).code).toBe(2);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it("accepts the seeds' underscore spellings and records the knobs and the config they produce", () => {
    // Seed 004's recorded command, plus --dry_run so that nothing trains.
    const r = train(
      '--dose 1000 --view baseline --gridsize 1 --max_epochs 1 --n_images 32 --batch_size 4 --accelerator cpu --logger none --disable_checkpointing --num-workers 0 --dry_run'.split(
        ' ',
      ),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = manifest();
    expect(m.knobs).toEqual({
      max_epochs: 1,
      n_groups: 32,
      batch_size: 4,
      accelerator: 'cpu',
      logger: 'none',
      disable_checkpointing: true,
      num_workers: 0,
    });
    expect(m.jobs[0].config?.training).toMatchObject({
      nepochs: 1,
      n_groups: 32,
      batch_size: 4,
      accelerator: 'cpu',
      logger: 'none',
      disable_checkpointing: true,
      num_workers: 0,
      nphotons: 1000,
      neighbor_count: 7,
    });
    expect(m.jobs[0].config?.legacy['output_prefix']).toBe(join(roots.artifactRoot, 'dose_1000', 'baseline', 'gs1'));
    const alias = train([
      '--dose',
      '1000',
      '--view',
      'dense',
      '--n_groups',
      '8',
      '--dry-run',
      '--allow_missing_phase_d',
    ]);
    expect(alias.code).toBe(0);
    expect(manifest().knobs.n_groups).toBe(8);
  });

  it('is strict about missing data unless --allow-missing-phase-d, and then lists the skip', () => {
    rmSync(join(roots.phaseDRoot, 'dose_100000', 'sparse'), { recursive: true });
    const strict = train(['--dry-run']);
    expect(strict.code).toBe(1);
    expect(strict.stderr.trim().split('\n')).toHaveLength(1);
    expect(strict.stderr).toContain(
      `Training dataset not found: ${join(roots.phaseDRoot, 'dose_100000', 'sparse', 'sparse_train.npz')}`,
    );
    expect(existsSync(join(roots.artifactRoot, 'training_manifest.json'))).toBe(false);
    const allowed = train(['--dry-run', '--allow-missing-phase-d']);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('[9/9] sparse (dose=1e+05, gridsize=2) → skipped: Phase D data for sparse');
    const m = manifest();
    expect(m.skipped_count).toBe(1);
    expect(m.jobs.find((j) => j.id === 'dose_100000-sparse-gs2')?.status).toBe('skipped');
    expect(JSON.parse(readFileSync(join(roots.artifactRoot, 'skip_summary.json'), 'utf8')).skipped_count).toBe(1);
  });

  it('rejects a bad knob value with a usage error', () => {
    const r = train(['--max-epochs', 'zero', '--dry-run']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("expected an integer in [1, 100000], got 'zero'");
    expect(existsSync(join(roots.artifactRoot, 'training_manifest.json'))).toBe(false);
  });

  it('a failed job is counted, never called completed, in the summary', () => {
    // The placeholder files hold no arrays: the trainer refuses them and the job fails.
    const r = train(['--dose', '1000', '--view', 'baseline', '--max-epochs', '1', '--accelerator', 'cpu']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('  → 0 of 1 job(s) trained to completion');
    expect(lines).toContain('  → 1 failed');
    expect(r.stdout).not.toMatch(/job\(s\) completed/);
    expect(manifest().jobs[0].status).toBe('failed');
  });

  it('names the flag and its allowed range for an out-of-range knob, in one line, never a ZodError', () => {
    const cases: [string[], string][] = [
      [
        ['--learning-rate', '1e308'],
        "error: option '--learning-rate <lr>' argument '1e308' is invalid. expected a learning rate in (0, 1], got '1e308'",
      ],
      [
        ['--seed', '4294967296'],
        "error: option '--seed <n>' argument '4294967296' is invalid. expected an integer in [0, 4294967295]",
      ],
      [
        ['--num-workers', '1000'],
        "error: option '--num-workers <n>' argument '1000' is invalid. expected an integer in [0, 64]",
      ],
    ];
    for (const [flags, message] of cases) {
      const r = train([...flags, '--dry-run']);
      expect(r.code, flags.join(' ')).not.toBe(0);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/ZodError|"code":/);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    }
    expect(existsSync(join(roots.artifactRoot, 'training_manifest.json'))).toBe(false);
  });
});
