/**
 * TrainerHost: runs training jobs in a worker process and turns the worker's life into a
 * RunnerResult per job. One interface, two launchers — `child_process.fork` for the CLI and
 * the server (fork-launcher.ts) and Electron's utilityProcess in the app (src/main/electron);
 * a launcher only has to provide a WorkerHandle.
 *
 * Lifecycle of a job: start → events stream in (forwarded live; the worker has already
 * appended them to events.jsonl and train.log) → one result. Cancel sends `cancel`; the
 * worker stops within one step, checkpoints and answers `cancelled`; if it does not within
 * the grace period it is killed and the job is still recorded `cancelled`, saying how long
 * it actually took. A worker that exits without a result is `failed`, with its exit code and
 * the tail of its stderr written to the log, and the host is ready for the next job. The
 * worker's pid goes to `ctx.onWorkerStarted` (the manifest records it), and the worker gets
 * the host's pid so that it stops when the host dies (parent-watch.ts).
 *
 * One worker trains a run's jobs one after another: after a job's result the worker waits
 * (`keepAliveMs`, and without holding the host process open) for the next job, so process
 * start, onnxruntime and the sessions of a graph it has seen are paid once per run, not per
 * job (docs/benchmarks.md § study). Crash isolation is per worker, not per job: a worker
 * that dies fails only the job under way and the next job gets a new worker; a job that is
 * cancelled, or an idle worker not needed within `keepAliveMs`, ends its worker; the
 * worker never holds two jobs at once. `keepAliveMs: 0` gives each job its own worker.
 */
import { appendFileSync } from 'node:fs';
import type { ResolvedJobConfig } from '../../shared/config';
import type { TrainEvent } from '../../shared/events';
import type { RunnerContext, RunnerResult } from '../study/runner';
import { FromWorker, type JobWire, type ToWorker, type TrainerExtras } from './messages';

export interface WorkerHandle {
  send(msg: ToWorker): void;
  onMessage(cb: (msg: unknown) => void): void;
  /** Called once when the process has exited (code null when killed by a signal). */
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  /** The last few kilobytes of the worker's stderr. */
  stderrTail(): string;
  kill(): void;
  /** The worker's process id once it has one (recorded in the manifest beside the host's). */
  pid(): number | undefined;
  /**
   * The worker waits between jobs (true) or trains (false): while it waits it must not keep
   * the host process alive (a CLI exits when its run is over; the worker then sees its
   * channel close and exits). Launchers whose host lives on anyway may omit it.
   */
  idle?(waiting: boolean): void;
}

export type WorkerLauncher = () => WorkerHandle;

export interface TrainerHost {
  run(
    config: ResolvedJobConfig,
    job: JobWire,
    logPath: string,
    ctx: RunnerContext & { extras?: TrainerExtras },
  ): Promise<RunnerResult>;
  /** Start a worker now, so that the next job finds it booted (e.g. while a run is planned). */
  prewarm(): void;
  /** Tell a waiting worker to exit. */
  close(): void;
}

export interface TrainerHostOptions {
  /** How long a cancel may take before the worker is killed (default 60 s). */
  cancelGraceMs?: number;
  /** How long a worker waits for the next job after a result (default 10 s; 0: one worker per job). */
  keepAliveMs?: number;
}

/** A worker and the job it trains, if any. */
interface Slot {
  worker: WorkerHandle;
  exited: boolean;
  job: { message(raw: unknown): void; exit(code: number | null, signal: string | null): void } | null;
  idleTimer?: NodeJS.Timeout;
}

/** Keeps the last `limit` characters of a stream. */
export function tailBuffer(limit = 8192): { push(chunk: string): void; text(): string } {
  let buf = '';
  return {
    push(chunk: string) {
      buf = (buf + chunk).slice(-limit);
    },
    text: () => buf,
  };
}

export function createTrainerHost(launch: WorkerLauncher, opts: TrainerHostOptions = {}): TrainerHost {
  const grace = opts.cancelGraceMs ?? 60_000;
  const keepAliveMs = opts.keepAliveMs ?? 10_000;
  let spare: Slot | null = null;

  const open = (): Slot => {
    const worker = launch();
    const slot: Slot = { worker, exited: false, job: null };
    worker.onMessage((raw) => slot.job?.message(raw));
    worker.onExit((code, signal) => {
      slot.exited = true;
      if (spare === slot) {
        clearTimeout(slot.idleTimer);
        spare = null;
      }
      slot.job?.exit(code, signal);
    });
    return slot;
  };
  const retire = (slot: Slot) => {
    clearTimeout(slot.idleTimer);
    if (slot.exited) return;
    slot.worker.send({ type: 'exit' });
    // a worker that does not understand `exit` (or hangs) still goes
    setTimeout(() => slot.worker.kill(), 10_000).unref();
  };
  const park = (slot: Slot) => {
    if (slot.exited) return;
    if (keepAliveMs <= 0 || spare) return retire(slot);
    spare = slot;
    slot.worker.idle?.(true);
    slot.idleTimer = setTimeout(() => {
      if (spare !== slot) return;
      spare = null;
      retire(slot);
    }, keepAliveMs);
    slot.idleTimer.unref();
  };
  const take = (): Slot => {
    const slot = spare;
    spare = null;
    if (slot && !slot.exited) {
      clearTimeout(slot.idleTimer);
      slot.worker.idle?.(false);
      return slot;
    }
    return open();
  };

  return {
    prewarm() {
      if (!spare && keepAliveMs > 0) park(open());
    },
    close() {
      const slot = spare;
      spare = null;
      if (slot) retire(slot);
    },
    run(config, job, logPath, ctx) {
      return new Promise<RunnerResult>((resolve) => {
        const slot = take();
        const worker = slot.worker;
        let lastStep: number | undefined;
        let cancelTimer: NodeJS.Timeout | undefined;
        let cancelledAt: number | null = null;
        let killedAfterGrace = false;
        let settled = false;
        let reportedPid = false;
        const reportPid = () => {
          const pid = worker.pid();
          if (reportedPid || pid === undefined) return;
          reportedPid = true;
          try {
            ctx.onWorkerStarted?.(pid);
          } catch {
            // recording the pid is best effort; the job itself goes on
          }
        };

        const forward = (e: TrainEvent) => {
          if (e.type === 'step') lastStep = e.step;
          try {
            ctx.onEvent(e);
          } catch {
            // a listener's failure must not take the job down
          }
        };
        const onAbort = () => {
          cancelledAt = Date.now();
          worker.send({ type: 'cancel' });
          cancelTimer = setTimeout(() => {
            killedAfterGrace = true;
            worker.kill();
          }, grace);
        };
        const settle = (result: RunnerResult, reuse: boolean) => {
          settled = true;
          slot.job = null;
          if (cancelTimer) clearTimeout(cancelTimer);
          ctx.signal.removeEventListener('abort', onAbort);
          if (reuse) {
            park(slot);
            return resolve(result);
          }
          // a worker that is done with: the job ends when its process has (no trainer outlives a cancel)
          if (slot.exited) return resolve(result);
          slot.job = { message: () => {}, exit: () => resolve(result) };
          retire(slot);
        };

        slot.job = {
          message(raw) {
            reportPid();
            const parsed = FromWorker.safeParse(raw);
            if (!parsed.success) {
              appendFileSync(
                logPath,
                `host: ignored a malformed message from the worker: ${parsed.error.message.split('\n')[0]}\n`,
              );
              return;
            }
            const msg = parsed.data;
            if (msg.type === 'event') return forward(msg.event);
            if (settled) return;
            const result = msg.result as RunnerResult;
            // a cancelled job ends its worker (the run is stopping); others leave it for the next job
            settle(result, result.status !== 'cancelled' && !ctx.signal.aborted);
          },
          exit(code, signal) {
            if (settled) return;
            const time = new Date().toISOString();
            if (ctx.signal.aborted) {
              const how = signal ? `signal ${signal}` : `code ${code}`;
              const after = ((Date.now() - (cancelledAt ?? Date.now())) / 1000).toFixed(1);
              const message = killedAfterGrace
                ? `worker did not stop within ${grace / 1000} s of cancel and was killed`
                : `worker exited with ${how} ${after} s after cancel, before reporting a result`;
              appendFileSync(logPath, `${time} status cancelled: ${message}\n`);
              appendEvent(
                job.eventsPath,
                { type: 'status', time, status: 'cancelled', message, step: lastStep },
                forward,
              );
              return settle(
                { status: 'cancelled', final_loss: null, epochs_completed: 0, checkpoint_path: null, error: message },
                false,
              );
            }
            const how = signal ? `signal ${signal}` : `code ${code}`;
            const tail = worker.stderrTail().trimEnd();
            const message = `training worker exited with ${how} before reporting a result`;
            appendFileSync(
              logPath,
              `${time} status failed: ${message}\n${tail ? `--- worker stderr (tail) ---\n${tail}\n---\n` : ''}`,
            );
            appendEvent(job.eventsPath, { type: 'status', time, status: 'failed', message, step: lastStep }, forward);
            settle(
              {
                status: 'failed',
                final_loss: null,
                epochs_completed: 0,
                checkpoint_path: null,
                error: tail ? `${message}: ${tail.split('\n').slice(-3).join(' | ')}` : message,
              },
              false,
            );
          },
        };
        if (ctx.signal.aborted) onAbort();
        else ctx.signal.addEventListener('abort', onAbort, { once: true });
        reportPid();
        worker.send({
          type: 'start',
          config,
          job,
          logPath,
          resume: ctx.resume === true,
          extras: ctx.extras ?? {},
          parent_pid: process.pid,
          ...(ctx.attemptId ? { attempt_id: ctx.attemptId } : {}),
        });
      });
    },
  };
}

function appendEvent(path: string, e: TrainEvent, forward: (e: TrainEvent) => void): void {
  try {
    appendFileSync(path, `${JSON.stringify(e)}\n`);
  } catch {
    // the artifact dir may be gone; the log line above already says what happened
  }
  forward(e);
}
