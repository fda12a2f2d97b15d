/**
 * Fault 5 (and the signal half of 11): the training worker dies with its parent. A real CLI
 * `train` is killed with SIGKILL, hung up (SIGHUP to it alone and to its whole process
 * group, as a closed terminal does) and interrupted with Ctrl-C (SIGINT to the process
 * group). In every case the worker stops within seconds with a checkpoint, no model.onnx
 * appears afterwards, and the manifest ends in a state a later run can act on; a resume
 * continues the curve with one trainer (steps strictly increasing, no interleaving).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainEvent } from '../../src/shared/events';
import { type ManifestJob, TrainingManifest } from '../../src/shared/manifest';
import { cliBin, ensureBuilt, runCliSync } from '../helpers/cli';

const JOB = 'dose_1000-baseline-gs1';
let root: string;

beforeAll(() => {
  ensureBuilt();
  root = mkdtempSync(join(tmpdir(), 'ptycho-fault-orphan-'));
  const sim = runCliSync(['simulate', '--out', 'phase_c', '--preset', 'demo', '--doses', '1e3'], { cwd: root });
  if (sim.code !== 0) throw new Error(`simulate failed: ${sim.stderr}`);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

function trainArgs(artifacts: string, extra: string[] = []): string[] {
  return [
    'train',
    '--phase-c-root',
    'phase_c',
    '--phase-d-root',
    'phase_d',
    '--artifact-root',
    artifacts,
    '--dose',
    '1000',
    '--view',
    'baseline',
    '--n-images',
    '16',
    '--batch-size',
    '4',
    '--accelerator',
    'cpu',
    '--deterministic',
    ...extra,
  ];
}

interface Cli {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The CLI in its own process group, as a shell runs a foreground job. */
function startTrain(artifacts: string): Cli {
  const child = spawn(process.execPath, [cliBin, ...trainArgs(artifacts, ['--max-epochs', '500'])], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, out: () => out, exited };
}

function manifestJob(artifacts: string): ManifestJob | undefined {
  try {
    const m = TrainingManifest.parse(JSON.parse(readFileSync(join(root, artifacts, 'training_manifest.json'), 'utf8')));
    return m.jobs.find((j) => j.id === JOB);
  } catch {
    return undefined; // not written yet
  }
}

function events(artifacts: string): TrainEvent[] {
  const path = join(root, artifacts, 'dose_1000', 'baseline', 'gs1', 'events.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => TrainEvent.parse(JSON.parse(l)));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Start training and wait until the worker has taken a step; returns the worker's pid. */
async function trainingStarted(cli: Cli, artifacts: string): Promise<number> {
  const pid = await waitFor(
    'the trainer pid in the manifest',
    () => manifestJob(artifacts)?.worker?.trainer_pid ?? undefined,
  );
  await waitFor(`a training step (output: ${cli.out()})`, () => events(artifacts).some((e) => e.type === 'step'));
  return pid;
}

const stepsOf = (evs: TrainEvent[]) => evs.flatMap((e) => (e.type === 'step' ? [e.step] : []));
const modelPath = (artifacts: string) => join(root, artifacts, 'dose_1000', 'baseline', 'gs1', 'model.onnx');

describe('a training worker dies with its parent', () => {
  it('kill -9 of the CLI: the worker stops with a checkpoint, the job becomes interrupted, --resume continues with one trainer', async () => {
    const cli = startTrain('a1');
    const trainerPid = await trainingStarted(cli, 'a1');
    expect(manifestJob('a1')?.worker).toMatchObject({ pid: cli.child.pid, trainer_pid: trainerPid });
    const t0 = Date.now();
    cli.child.kill('SIGKILL');
    expect((await cli.exited).signal).toBe('SIGKILL');
    await waitFor('the orphaned worker to exit', () => !alive(trainerPid), 30_000);
    const stoppedAfterS = (Date.now() - t0) / 1000;
    expect(stoppedAfterS).toBeLessThan(30);
    const last = events('a1').at(-1);
    expect(last).toMatchObject({ type: 'status', status: 'cancelled' });
    expect(last?.type === 'status' && last.message).toMatch(/parent.*checkpoint written at step \d+/);
    // Nobody wrote the manifest after the kill; the worker did not train on to a model.
    expect(manifestJob('a1')?.status).toBe('running');
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(modelPath('a1'))).toBe(false);
    expect(existsSync(join(root, 'a1', 'dose_1000', 'baseline', 'gs1', 'trainer.lock'))).toBe(false);

    const before = stepsOf(events('a1'));
    const resumed = runCliSync(trainArgs('a1', ['--max-epochs', '1', '--resume']), { cwd: root });
    expect(resumed.stderr).not.toMatch(/LOCKED/);
    expect(resumed.code).toBe(0);
    const m = TrainingManifest.parse(JSON.parse(readFileSync(join(root, 'a1', 'training_manifest.json'), 'utf8')));
    expect(m.runs[0].status).toBe('interrupted');
    expect(m.jobs.find((j) => j.id === JOB)?.status).toBe('done');
    const steps = stepsOf(events('a1'));
    expect(steps.slice(0, before.length)).toEqual(before);
    // One trainer: every step once, in order.
    expect(steps).toEqual(steps.map((_, i) => i + 1));
    console.log(`kill -9: worker stopped ${stoppedAfterS.toFixed(1)} s after its parent died`);
  });

  it('SIGHUP to the CLI alone: the job is cancelled with a checkpoint and the CLI exits 129', async () => {
    const cli = startTrain('a2');
    const trainerPid = await trainingStarted(cli, 'a2');
    cli.child.kill('SIGHUP');
    expect((await cli.exited).code).toBe(129);
    expect(alive(trainerPid)).toBe(false);
    const job = manifestJob('a2');
    expect(job?.status).toBe('cancelled');
    expect(job?.result?.checkpoint_path).toMatch(/last\.ckpt$/);
    expect(existsSync(modelPath('a2'))).toBe(false);
  });

  it('a closed terminal (SIGHUP to the whole process group) cancels cleanly instead of failing the job', async () => {
    const cli = startTrain('a3');
    const trainerPid = await trainingStarted(cli, 'a3');
    process.kill(-(cli.child.pid as number), 'SIGHUP');
    expect((await cli.exited).code).toBe(129);
    expect(alive(trainerPid)).toBe(false);
    expect(manifestJob('a3')?.status).toBe('cancelled');
    expect(manifestJob('a3')?.result?.checkpoint_path).toMatch(/last\.ckpt$/);
  });

  it('Ctrl-C in a terminal (SIGINT to the process group) cancels with a checkpoint and says so truthfully', async () => {
    const cli = startTrain('a4');
    await trainingStarted(cli, 'a4');
    const t0 = Date.now();
    process.kill(-(cli.child.pid as number), 'SIGINT');
    expect((await cli.exited).code).toBe(130);
    const tookS = (Date.now() - t0) / 1000;
    const out = cli.out();
    expect(out).toContain('Cancelling (press Ctrl-C again to quit at once)...');
    expect(out).toMatch(/cancelled: checkpoint written at step \d+; resume with --resume/);
    expect(out).not.toMatch(/did not stop within/);
    const stopped = out.match(/→ cancelled(?: final_loss=\S+)? \(stopped (\d+\.\d) s after the cancel\)/);
    expect(stopped, out).not.toBeNull();
    // the CLI prints one decimal: allow its rounding
    expect(Number(stopped?.[1])).toBeLessThanOrEqual(tookS + 0.05);
    expect(manifestJob('a4')?.status).toBe('cancelled');
    expect(manifestJob('a4')?.result?.checkpoint_path).toMatch(/last\.ckpt$/);
    expect(tookS).toBeLessThan(30);
  });
});
