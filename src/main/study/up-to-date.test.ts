import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobFingerprint } from '../../shared/fingerprint';
import { TrainingManifest } from '../../shared/manifest';
import { defaultStudyDesign } from '../../shared/study';
import { runCli } from '../cli/run';
import { configChanges, trainingGraphSha256 } from './fingerprint';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import type { StudyRoots } from './jobs';
import type { TrainingRunner } from './runner';

let dir: string;
let roots: StudyRoots;
let trained: string[];
let failNext: Set<string>;

/** Stands in for the trainer: writes a model file and says done (or failed when asked). */
const fakeRunner: TrainingRunner = async (config, job) => {
  trained.push(job.id);
  if (failNext.has(job.id)) {
    failNext.delete(job.id);
    return { status: 'failed', final_loss: null, epochs_completed: 0, checkpoint_path: null, error: 'boom' };
  }
  mkdirSync(job.artifactDir, { recursive: true });
  const model = join(job.artifactDir, 'model.onnx');
  const body = `model ${config.training.nepochs}`;
  writeFileSync(model, body);
  return {
    status: 'done',
    final_loss: 1,
    epochs_completed: config.training.nepochs,
    checkpoint_path: null,
    model_path: model,
    model_bytes: Buffer.byteLength(body),
  };
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'up-to-date-'));
  roots = createPlaceholderLayout(dir, { design: { ...defaultStudyDesign(), doses: [1000] } });
  trained = [];
  failNext = new Set();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const studyFile = { doses: [1000] };

async function train(...flags: string[]): Promise<{ code: number; out: string }> {
  writeFileSync(join(dir, 'study.json'), JSON.stringify(studyFile));
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    const code = await runCli(
      [
        'train',
        '--phase-c-root',
        roots.phaseCRoot,
        '--phase-d-root',
        roots.phaseDRoot,
        '--artifact-root',
        roots.artifactRoot,
        '--study',
        join(dir, 'study.json'),
        '--accelerator',
        'cpu',
        ...flags,
      ],
      { runner: fakeRunner },
    );
    return { code, out: out.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

function manifest(): TrainingManifest {
  return TrainingManifest.parse(JSON.parse(readFileSync(join(roots.artifactRoot, 'training_manifest.json'), 'utf8')));
}

describe('train skips jobs that are up to date', () => {
  it('a second identical train trains nothing and says why; one changed knob reruns exactly its jobs', async () => {
    const first = await train('--max-epochs', '2');
    expect(first.code, first.out).toBe(0);
    expect(trained).toHaveLength(3);
    expect(first.out).toContain('baseline (dose=1e+03, gridsize=1): will run: never trained');
    const entry = manifest().jobs[0];
    const fp = JobFingerprint.parse(entry.fingerprint);
    expect(fp.config['training.nepochs']).toBe(2);
    expect(fp.inputs.map((i) => i.label)).toEqual(['dose_1000/patched_train.npz', 'dose_1000/patched_test.npz']);
    expect(fp.code.graph_sha256).toBe(trainingGraphSha256());
    expect(fp.provider).toBe('cpu');
    const runsBefore = manifest().runs.length;

    trained = [];
    const second = await train('--max-epochs', '2');
    expect(second.code).toBe(0);
    expect(trained).toEqual([]);
    expect(second.out).toContain('baseline (dose=1e+03, gridsize=1): up to date');
    expect(second.out).toContain('Nothing to train: 3 job(s) up to date (--force retrains them)');
    expect(manifest().runs).toHaveLength(runsBefore);

    // A knob that does not change what is learnt (the extra logger) reruns nothing.
    expect((await train('--max-epochs', '2', '--logger', 'csv')).code).toBe(0);
    expect(trained).toEqual([]);

    // One knob, only the baseline: exactly that job reruns, with the reason.
    const dry = await train('--max-epochs', '3', '--view', 'baseline', '--dry-run');
    expect(dry.out).toContain('will run: config changed: nepochs 2 → 3');
    expect(trained).toEqual([]);
    const third = await train('--max-epochs', '3', '--view', 'baseline');
    expect(third.code).toBe(0);
    expect(trained).toEqual(['dose_1000-baseline-gs1']);

    // --force retrains an up-to-date job.
    trained = [];
    const forced = await train('--max-epochs', '3', '--view', 'baseline', '--force');
    expect(forced.out).toContain('will run: --force');
    expect(trained).toEqual(['dose_1000-baseline-gs1']);
  });

  it('an input file changed, a model deleted and a failed last run are each named', async () => {
    failNext.add('dose_1000-sparse-gs2');
    expect((await train('--max-epochs', '1')).code).toBe(1);
    // Same size, new mtime, same content: still up to date (the content hash decides).
    const trainFile = join(roots.phaseCRoot, 'dose_1000', 'patched_train.npz');
    const later = new Date(Date.now() + 5000);
    utimesSync(trainFile, later, later);
    const dense = join(roots.phaseDRoot, 'dose_1000', 'dense', 'dense_test.npz');
    writeFileSync(dense, Buffer.concat([readFileSync(dense), Buffer.from('x')]));
    rmSync(join(roots.artifactRoot, 'dose_1000', 'baseline', 'gs1', 'model.onnx'));
    trained = [];
    const r = await train('--max-epochs', '1', '--dry-run');
    expect(r.out).toContain(
      `baseline (dose=1e+03, gridsize=1): will run: model missing: ${join(roots.artifactRoot, 'dose_1000', 'baseline', 'gs1', 'model.onnx')}`,
    );
    expect(r.out).not.toContain('input changed: dose_1000/patched_train.npz');
    expect(r.out).toContain('dense (dose=1e+03, gridsize=2): will run: input changed: dose_1000/dense/dense_test.npz');
    expect(r.out).toContain('sparse (dose=1e+03, gridsize=2): will run: last run failed (boom)');
    expect(trained).toEqual([]);
  });

  it('names every changed key with its old and new value', () => {
    expect(configChanges({ 'training.nepochs': 50, 'model.N': 64 }, { 'training.nepochs': 60, 'model.N': 64 })).toEqual(
      ['nepochs 50 → 60'],
    );
    expect(configChanges({ 'training.seed': 1 }, { 'training.seed': 1, 'training.n_groups': 8 })).toEqual([
      'n_groups (unset) → 8',
    ]);
  });
});
