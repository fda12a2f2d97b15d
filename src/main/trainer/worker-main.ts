/**
 * Training worker entry (bundled to out/node/trainer.js). It runs under a Node child process
 * (CLI, server: `process.send`) or an Electron utility process (`process.parentPort`),
 * waits for a `start`, trains, sends every event and then one result, and waits for the
 * next `start` — the host gives it the jobs of a run one after another, so the process,
 * onnxruntime and the sessions of a graph already seen (session-cache.ts) are set up once —
 * until `exit`, its parent's death, or a stop. `cancel` aborts the job under way; the
 * training loop stops within one step and checkpoints; the worker then exits, as it does
 * after an error outside a job.
 */
import { serializeError } from '../../shared/errors';
import type { TrainEvent } from '../../shared/events';
import { createOptimizedCache, optimizedCacheDir } from '../nn/optimized-cache';
import { createSessionCache } from '../nn/session-cache';
import { type FromWorker, ToWorker } from './messages';
import { watchParent } from './parent-watch';
import { createPhaseClock } from './phases';
import { trainJob } from './train-job';

// The ES imports above (onnxruntime included) have loaded by now: the worker's boot time.
const bootedAt = performance.now();

interface Port {
  send(msg: FromWorker): Promise<void>;
  onMessage(cb: (msg: unknown) => void): void;
}

/** Electron's utility-process port, reached without importing electron. */
interface ParentPort {
  postMessage(msg: unknown): void;
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
}

function connect(): Port {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: async (msg) => parentPort.postMessage(msg),
      onMessage: (cb) => parentPort.on('message', (e) => cb(e.data)),
    };
  }
  if (!process.send) {
    process.stderr.write('trainer: started without an IPC channel; run it through the workbench or the CLI\n');
    process.exit(2);
  }
  return {
    send: (msg) =>
      new Promise<void>((resolve) => {
        if (!process.connected) return resolve();
        process.send?.(msg, undefined, {}, () => resolve());
      }),
    onMessage: (cb) => process.on('message', cb),
  };
}

// The parent may die with our stdout/stderr pipes: a write must then fail quietly, not crash.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

const port = connect();
const optimizedDir = optimizedCacheDir();
const optimized = optimizedDir ? createOptimizedCache(optimizedDir) : null;
const sessions = optimized ? createSessionCache(optimized.create, optimized.loaded, optimized) : createSessionCache();
/** The job under way, if any. */
let abort: AbortController | null = null;
let jobsStarted = 0;
/** A stop (parent gone, SIGTERM, `exit`) arrived: no job after the current one. */
let stopping = false;

/** The sessions' release before an exit between jobs, once (a second stop waits for it). */
let releasing = false;

/** Stop training (checkpoint written within one step), or exit at once between jobs. */
function stopTraining(why: string, hardLimitMs: number): void {
  stopping = true;
  if (!abort) {
    // onnxruntime writes a session's profile (PTYCHO_ORT_PROFILE) when the session is
    // released, which process.exit does not do for the replicas' threads.
    if (!process.env.PTYCHO_ORT_PROFILE) process.exit(0);
    if (!releasing) void sessions.release().finally(() => process.exit(0));
    releasing = true;
    return;
  }
  abort.abort(why);
  // A step that never returns must not keep an orphan alive.
  setTimeout(() => process.exit(1), hardLimitMs).unref?.();
}

const watch = watchParent((why) => {
  process.stderr.write(`trainer: ${why}; stopping\n`);
  stopTraining(`stopped because ${why}`, 30_000);
});
// A terminal's Ctrl-C and hang-up reach the whole process group; the parent decides what
// they mean and tells us (cancel) — or dies, and the watch above stops us.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
// A SIGTERM that arrives together with the parent's cancel (Slurm, or a shutdown that
// signals the whole group, so both processes get it) is the same request: finish the step
// and checkpoint. A second SIGTERM, or one long after the cancel (the host's kill once its
// grace period ran out), means now.
const SAME_REQUEST_MS = 5_000;
let stopRequestedAt: number | null = null;
let sigterms = 0;
process.on('SIGTERM', () => {
  sigterms += 1;
  const sinceStop = stopRequestedAt === null ? 0 : Date.now() - stopRequestedAt;
  if (sigterms > 1 || (abort?.signal.aborted && sinceStop > SAME_REQUEST_MS)) process.exit(143);
  stopRequestedAt ??= Date.now();
  stopTraining('stopped by SIGTERM', 30_000);
});

port.onMessage(async (raw) => {
  const parsed = ToWorker.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`trainer: malformed message: ${parsed.error.message.split('\n')[0]}\n`);
    return;
  }
  const msg = parsed.data;
  if (msg.type === 'cancel') {
    stopRequestedAt ??= Date.now();
    abort?.abort();
    return;
  }
  if (msg.type === 'exit') {
    stopTraining('the host closed the worker', 30_000);
    return;
  }
  if (abort || stopping) return; // one job at a time; none after a stop
  // The first job's clock starts at the process start: the worker's boot is its first phase.
  const clock = createPhaseClock(jobsStarted === 0 ? 0 : performance.now());
  if (jobsStarted === 0) {
    clock.mark('worker boot', bootedAt);
    clock.mark('wait for the job');
  }
  jobsStarted += 1;
  const job = new AbortController();
  abort = job;
  stopRequestedAt = null;
  if (msg.parent_pid !== undefined) watch.watchPid(msg.parent_pid);
  const sends: Promise<void>[] = [];
  const onEvent = (event: TrainEvent) => {
    sends.push(port.send({ type: 'event', event }));
  };
  let exitCode: number | null = null;
  try {
    sessions.beginJob();
    const result = await trainJob(msg.config, msg.job, msg.logPath, {
      signal: job.signal,
      onEvent,
      resume: msg.resume,
      extras: msg.extras,
      attemptId: msg.attempt_id,
      sessions,
      clock,
    });
    await Promise.all(sends);
    await port.send({ type: 'result', result });
    // A stopped job ends the worker too: a cancel or a stop means the run is ending.
    if (result.status === 'cancelled' || stopping) exitCode = 0;
  } catch (e) {
    const err = serializeError(e);
    process.stderr.write(`trainer: ${err.code}: ${err.message}\n${e instanceof Error ? (e.stack ?? '') : ''}\n`);
    await Promise.all(sends);
    await port.send({
      type: 'result',
      result: {
        status: 'failed',
        final_loss: null,
        epochs_completed: 0,
        checkpoint_path: null,
        error: `${err.code}: ${err.message}`,
      },
    });
    exitCode = 1;
  }
  abort = null;
  if (exitCode !== null) process.exit(exitCode);
});
