import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainEvent } from '../../shared/events';
import { ensureBuilt } from '../../../test/helpers/cli';
import { isProcessAlive } from '../study/lock';
import type { TrainingJob } from '../study/jobs';
import { simulateTinyStudy, type TinyStudy, tinyConfig, tinyJob } from '../../../test/fixtures/trainer.fixture';
import { forkLauncher } from './fork-launcher';
import { createTrainerHost } from './host';
import { createWorkerRunner } from './runner';

let study: TinyStudy;
beforeAll(async () => {
  ensureBuilt();
  study = await simulateTinyStudy({ N: 32, nPositions: 40 });
}, 120_000);

function script(body: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fake-worker-')), 'worker.mjs');
  writeFileSync(path, body);
  return path;
}

function asStudyJob(dir: string, gridsize: 1 | 2 = 1): TrainingJob {
  return { ...tinyJob(study, dir, gridsize), skipReason: null, missingFiles: [] };
}

async function gone(pid: number, withinMs = 15_000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!isProcessAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** A fake worker that answers `done` to each start (final_loss = its job count) and exits on `exit`. */
const REUSABLE_FAKE = `let n = 0;
process.on('message', (m) => {
  if (m.type === 'exit') process.exit(0);
  if (m.type !== 'start') return;
  n += 1;
  if (process.env.CRASH_AT === String(n)) { process.stderr.write('native crash in job ' + n + '\\n'); process.exit(3); }
  process.send({ type: 'result', result: { status: 'done', final_loss: n, epochs_completed: 1, checkpoint_path: null } });
});`;

describe('trainer host', () => {
  it('trains in a forked worker, forwarding the same events it writes to events.jsonl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-job-'));
    const job = asStudyJob(dir, 2);
    const live: TrainEvent[] = [];
    const runner = createWorkerRunner(forkLauncher(), { threads: 1 });
    const r = await runner(tinyConfig(study, dir, { nepochs: 1 }, { gridsize: 2 }), job, job.logPath, {
      signal: new AbortController().signal,
      onEvent: (e) => live.push(e),
    });
    expect(r.status).toBe('done');
    expect(r.model_sha256).toMatch(/^[0-9a-f]{64}$/);
    const lines = readFileSync(job.eventsPath, 'utf8').trim().split('\n');
    expect(lines.length).toBe(live.length);
    expect(lines.map((l) => TrainEvent.parse(JSON.parse(l)))).toEqual(live);
    expect(readFileSync(job.logPath, 'utf8')).toMatch(/status done/);
  });

  it("logs how a CPU job's idle threads wait: spinning or blocking as PTYCHO_ORT_SPIN forces, nothing with one thread", async () => {
    const logs: string[] = [];
    for (const [spin, threads] of [
      ['1', 2],
      ['0', 2],
      ['1', 1],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'host-spin-'));
      const job = asStudyJob(dir);
      const runner = createWorkerRunner(forkLauncher({ env: { PTYCHO_ORT_SPIN: spin } }), { threads });
      const r = await runner(tinyConfig(study, dir, { nepochs: 1 }), job, job.logPath, {
        signal: new AbortController().signal,
        onEvent: () => {},
      });
      expect(r.status).toBe('done');
      logs.push(readFileSync(job.logPath, 'utf8'));
    }
    expect(logs[0]).toMatch(/2 threads(, deterministic)?; idle threads spin during a step \(PTYCHO_ORT_SPIN=1\)\n/);
    expect(logs[1]).toMatch(/2 threads(, deterministic)?; idle threads block \(PTYCHO_ORT_SPIN=0\)\n/);
    expect(logs[2]).toMatch(/execution provider cpu \([^)]*\), 1 threads(, deterministic)?\n/);
  });

  it('one worker trains the jobs of a run in turn, on the sessions of the first, with the same bits', async () => {
    const env = { PTYCHO_ORT_CACHE_DIR: mkdtempSync(join(tmpdir(), 'ort-optimized-')) };
    const pids: number[] = [];
    const train = (runner: ReturnType<typeof createWorkerRunner>, dir: string) => {
      const job = asStudyJob(dir);
      return runner(tinyConfig(study, dir, { nepochs: 1 }), job, job.logPath, {
        signal: new AbortController().signal,
        onEvent: () => {},
        onWorkerStarted: (pid) => pids.push(pid),
      });
    };
    const dirs = ['a', 'b', 'c'].map((k) => mkdtempSync(join(tmpdir(), `host-reuse-${k}-`)));
    const runner = createWorkerRunner(forkLauncher({ env }), { threads: 1 });
    const a = await train(runner, dirs[0]);
    const b = await train(runner, dirs[1]);
    // another run: a new worker, whose sessions load the graphs the first optimised
    const c = await train(createWorkerRunner(forkLauncher({ env }), { threads: 1 }), dirs[2]);
    expect([a.status, b.status, c.status]).toEqual(['done', 'done', 'done']);
    expect(pids[1]).toBe(pids[0]);
    expect(pids[2]).not.toBe(pids[0]);
    // the first job's sessions were new; the second trained on them, the third on their optimised graphs: the same bits
    expect(b.model_sha256).toBe(a.model_sha256);
    expect(c.model_sha256).toBe(a.model_sha256);
    const [logA, logB, logC] = dirs.map((d) => readFileSync(join(d, 'train.log'), 'utf8'));
    expect(logA).toMatch(
      /phase timings \(ms\): worker boot \d+, .*first step \d+.*export model \d+, checkpoint flush \d+; total \d+ ms \(0 sessions kept from an earlier job, 2 created, 0 of them from optimised graphs on disk\)/,
    );
    expect(logB).toMatch(/phase timings \(ms\): lock \+ log \d+, .*\(2 sessions kept from an earlier job, 0 created/);
    expect(logC).toMatch(/\(0 sessions kept from an earlier job, 2 created, 2 of them from optimised graphs on disk\)/);
  });

  it('a worker that dies fails only its job; the next job gets a new worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-reuse-crash-'));
    const job = asStudyJob(dir);
    writeFileSync(job.logPath, '');
    const host = createTrainerHost(forkLauncher({ entry: script(REUSABLE_FAKE), env: { CRASH_AT: '2' } }));
    const pids: number[] = [];
    const ctx = {
      signal: new AbortController().signal,
      onEvent: () => {},
      onWorkerStarted: (p: number) => pids.push(p),
    };
    const config = tinyConfig(study, dir);
    const r1 = await host.run(config, job, job.logPath, ctx);
    const r2 = await host.run(config, job, job.logPath, ctx);
    const r3 = await host.run(config, job, job.logPath, ctx);
    expect([r1.status, r2.status, r3.status]).toEqual(['done', 'failed', 'done']);
    expect(r2.error).toMatch(/code 3/);
    expect(readFileSync(job.logPath, 'utf8')).toContain('native crash in job 2');
    expect(pids[1]).toBe(pids[0]);
    expect(pids[2]).not.toBe(pids[0]);
    expect(r3.final_loss).toBe(1); // the new worker's first job
    host.close();
    expect(await gone(pids[2])).toBe(true);
  });

  it('a waiting worker exits when no job comes within the keep-alive time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-idle-'));
    const job = asStudyJob(dir);
    const host = createTrainerHost(forkLauncher({ entry: script(REUSABLE_FAKE) }), { keepAliveMs: 100 });
    let pid = 0;
    const r = await host.run(tinyConfig(study, dir), job, job.logPath, {
      signal: new AbortController().signal,
      onEvent: () => {},
      onWorkerStarted: (p) => {
        pid = p;
      },
    });
    expect(r.status).toBe('done');
    expect(isProcessAlive(pid)).toBe(true);
    expect(await gone(pid, 5_000)).toBe(true);
  });

  it('a waiting worker does not hold the host process open', () => {
    const stay = script("process.on('message', () => {}); setInterval(() => {}, 1000);");
    const active = () => process.getActiveResourcesInfo().length;
    const before = active();
    const w = forkLauncher({ entry: stay })();
    try {
      expect(active()).toBeGreaterThan(before);
      w.idle?.(true);
      expect(active()).toBe(before);
      w.idle?.(false);
      expect(active()).toBeGreaterThan(before);
    } finally {
      w.kill();
    }
  });

  it('cancel stops the worker within a step and leaves a checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-cancel-'));
    const job = asStudyJob(dir);
    const abort = new AbortController();
    const runner = createWorkerRunner(forkLauncher(), { threads: 1 });
    let pid = 0;
    const r = await runner(tinyConfig(study, dir, { nepochs: 5 }), job, job.logPath, {
      signal: abort.signal,
      onWorkerStarted: (p) => {
        pid = p;
      },
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 2) abort.abort();
      },
    });
    expect(r.status).toBe('cancelled');
    expect(existsSync(r.checkpoint_path as string)).toBe(true);
    // a cancel ends the worker (the run is stopping), it does not wait for another job
    expect(await gone(pid)).toBe(true);
    const steps = readFileSync(job.eventsPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; step?: number })
      .filter((e) => e.type === 'step');
    // The step in flight when the cancel message lands finishes; the IPC round trip may let one more start.
    expect(steps.at(-1)?.step).toBeLessThanOrEqual(4);
    expect(readFileSync(job.eventsPath, 'utf8')).toMatch(/"status":"cancelled"/);
  });

  it('SIGTERM to the worker itself (a shutdown) stops it with a checkpoint, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-sigterm-'));
    const job = asStudyJob(dir);
    const runner = createWorkerRunner(forkLauncher(), { threads: 1 });
    let pid = 0;
    const r = await runner(tinyConfig(study, dir, { nepochs: 5 }), job, job.logPath, {
      signal: new AbortController().signal,
      onWorkerStarted: (p) => {
        pid = p;
      },
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 2) process.kill(pid, 'SIGTERM');
      },
    });
    expect(r.status).toBe('cancelled');
    expect(existsSync(r.checkpoint_path as string)).toBe(true);
    expect(readFileSync(job.eventsPath, 'utf8')).toMatch(/stopped by SIGTERM; checkpoint written at step \d+/);
  });

  it('a cancel and a SIGTERM together (Slurm or a shutdown signalling the whole group) still checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-group-term-'));
    const job = asStudyJob(dir);
    const runner = createWorkerRunner(forkLauncher(), { threads: 1 });
    const cancel = new AbortController();
    let pid = 0;
    const r = await runner(tinyConfig(study, dir, { nepochs: 5 }), job, job.logPath, {
      signal: cancel.signal,
      onWorkerStarted: (p) => {
        pid = p;
      },
      onEvent: (e) => {
        if (e.type === 'step' && e.step === 2 && !cancel.signal.aborted) {
          // the parent's cancel reaches the worker first, its own SIGTERM a moment later
          cancel.abort();
          setTimeout(() => process.kill(pid, 'SIGTERM'), 50);
        }
      },
    });
    expect(r.status).toBe('cancelled');
    expect(existsSync(r.checkpoint_path as string)).toBe(true);
  });

  it('a worker that dies is failed with its stderr tail in the log, and the next job still runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-crash-'));
    const job = asStudyJob(dir);
    writeFileSync(job.logPath, '');
    const crash = script(
      "process.on('message', () => { process.stderr.write('native crash in kernel XYZ\\n'); process.exit(3); });",
    );
    const host = createTrainerHost(forkLauncher({ entry: crash }));
    const ctx = { signal: new AbortController().signal, onEvent: () => {} };
    const r = await host.run(tinyConfig(study, dir), job, job.logPath, ctx);
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/code 3/);
    const log = readFileSync(job.logPath, 'utf8');
    expect(log).toContain('native crash in kernel XYZ');
    expect(readFileSync(job.eventsPath, 'utf8')).toMatch(/"status":"failed"/);

    const ok = script(
      "process.on('message', (m) => { if (m.type === 'start') process.send({ type: 'result', result: { status: 'done', final_loss: 1.5, epochs_completed: 1, checkpoint_path: null } }, () => process.exit(0)); });",
    );
    const next = await createTrainerHost(forkLauncher({ entry: ok })).run(
      tinyConfig(study, dir),
      job,
      job.logPath,
      ctx,
    );
    expect(next.status).toBe('done');
    expect(next.final_loss).toBe(1.5);
  });

  it('a worker that ignores cancel is killed after the grace period and recorded cancelled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-stuck-'));
    const job = asStudyJob(dir);
    writeFileSync(job.logPath, '');
    const stuck = script("process.on('message', () => {}); setInterval(() => {}, 1000);");
    const host = createTrainerHost(forkLauncher({ entry: stuck }), { cancelGraceMs: 300 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const r = await host.run(tinyConfig(study, dir), job, job.logPath, { signal: abort.signal, onEvent: () => {} });
    expect(r.status).toBe('cancelled');
    expect(readFileSync(job.logPath, 'utf8')).toMatch(/killed/);
  });

  it('a worker that exits soon after cancel without a result is reported with the real time, not as killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'host-quit-'));
    const job = asStudyJob(dir);
    writeFileSync(job.logPath, '');
    const quits = script(
      "process.on('message', (m) => { if (m.type === 'cancel') setTimeout(() => process.exit(0), 200); }); setInterval(() => {}, 1000);",
    );
    const host = createTrainerHost(forkLauncher({ entry: quits }), { cancelGraceMs: 60_000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    let workerPid: number | undefined;
    const r = await host.run(tinyConfig(study, dir), job, job.logPath, {
      signal: abort.signal,
      onEvent: () => {},
      onWorkerStarted: (pid) => {
        workerPid = pid;
      },
    });
    expect(workerPid).toBeGreaterThan(0);
    expect(r.status).toBe('cancelled');
    const m = r.error?.match(/^worker exited with code 0 (\d+\.\d) s after cancel, before reporting a result$/);
    expect(m, r.error).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(0.1);
    expect(Number(m?.[1])).toBeLessThan(30);
    expect(readFileSync(job.logPath, 'utf8')).not.toMatch(/did not stop within/);
  });
});
