/**
 * TrainerHost: runs one training job in a worker process and turns the worker's life into
 * a RunnerResult. One interface, two launchers — `child_process.fork` for the CLI and the
 * server (fork-launcher.ts) and Electron's utilityProcess in the app (src/main/electron);
 * a launcher only has to provide a WorkerHandle.
 *
 * Lifecycle: start → events stream in (forwarded live; the worker has already appended them
 * to events.jsonl and train.log) → one result → exit. Cancel sends `cancel`; the worker
 * stops within one step, checkpoints and answers `cancelled`; if it does not within the
 * grace period it is killed and the job is still recorded `cancelled`, saying how long it
 * actually took. A worker that exits without a result is `failed`, with its exit code and
 * the tail of its stderr written to the log, and the host is ready for the next job. The
 * worker's pid goes to `ctx.onWorkerStarted` (the manifest records it), and the worker gets
 * the host's pid so that it stops when the host dies (parent-watch.ts).
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
}

export type WorkerLauncher = () => WorkerHandle;

export interface TrainerHost {
  run(
    config: ResolvedJobConfig,
    job: JobWire,
    logPath: string,
    ctx: RunnerContext & { extras?: TrainerExtras },
  ): Promise<RunnerResult>;
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

export function createTrainerHost(launch: WorkerLauncher, opts: { cancelGraceMs?: number } = {}): TrainerHost {
  const grace = opts.cancelGraceMs ?? 60_000;
  return {
    run(config, job, logPath, ctx) {
      return new Promise<RunnerResult>((resolve) => {
        const worker = launch();
        let result: RunnerResult | null = null;
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

        worker.onMessage((raw) => {
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
          if (msg.type === 'event') forward(msg.event);
          else result = msg.result as RunnerResult;
        });

        worker.onExit((code, signal) => {
          if (settled) return;
          settled = true;
          if (cancelTimer) clearTimeout(cancelTimer);
          ctx.signal.removeEventListener('abort', onAbort);
          if (result) return resolve(result);
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
            return resolve({
              status: 'cancelled',
              final_loss: null,
              epochs_completed: 0,
              checkpoint_path: null,
              error: message,
            });
          }
          const how = signal ? `signal ${signal}` : `code ${code}`;
          const tail = worker.stderrTail().trimEnd();
          const message = `training worker exited with ${how} before reporting a result`;
          appendFileSync(
            logPath,
            `${time} status failed: ${message}\n${tail ? `--- worker stderr (tail) ---\n${tail}\n---\n` : ''}`,
          );
          appendEvent(job.eventsPath, { type: 'status', time, status: 'failed', message, step: lastStep }, forward);
          resolve({
            status: 'failed',
            final_loss: null,
            epochs_completed: 0,
            checkpoint_path: null,
            error: tail ? `${message}: ${tail.split('\n').slice(-3).join(' | ')}` : message,
          });
        });

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
