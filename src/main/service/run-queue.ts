/**
 * The workbench's one run queue: training runs and classical reconstructions wait in one
 * FIFO, so one of them computes at a time in this process (both are CPU-bound). A run that
 * has not started yet can be taken out (a cancelled queued run never starts).
 */
import type { QueuedRunKind } from '../../shared/queue-api';

export interface QueuedRun<T> {
  readonly id: string;
  readonly kind: QueuedRunKind;
  /** Settles with the task's result, or with the `removed` value when it was taken out before starting. */
  readonly done: Promise<T>;
  /** True once the task has been called. */
  started(): boolean;
  /** Takes the run out of the queue if it has not started; false once it has (or was already removed). */
  remove(): boolean;
}

interface Entry {
  id: string;
  kind: QueuedRunKind;
  run: () => Promise<void>;
  drop: () => void;
}

export class RunQueue {
  private readonly waiting: Entry[] = [];
  private active: Entry | null = null;

  /**
   * Appends a task; it is called once every run queued before it has finished. `removed`
   * is what `done` settles with if the run is taken out before it starts.
   */
  enqueue<T>(id: string, kind: QueuedRunKind, task: () => Promise<T>, removed: () => T): QueuedRun<T> {
    let started = false;
    let settle!: { resolve: (v: T) => void; reject: (e: unknown) => void };
    const done = new Promise<T>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const entry: Entry = {
      id,
      kind,
      run: async () => {
        started = true;
        try {
          settle.resolve(await task());
        } catch (e) {
          settle.reject(e);
        }
      },
      drop: () => settle.resolve(removed()),
    };
    this.waiting.push(entry);
    this.pump();
    return {
      id,
      kind,
      done,
      started: () => started,
      remove: () => {
        const i = this.waiting.indexOf(entry);
        if (i < 0) return false;
        this.waiting.splice(i, 1);
        entry.drop();
        return true;
      },
    };
  }

  /** The run computing now and the ones waiting, in order. */
  snapshot(): { active: { id: string; kind: QueuedRunKind } | null; waiting: { id: string; kind: QueuedRunKind }[] } {
    const pick = (e: Entry) => ({ id: e.id, kind: e.kind });
    return { active: this.active ? pick(this.active) : null, waiting: this.waiting.map(pick) };
  }

  private pump(): void {
    if (this.active) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.active = next;
    // started on a later tick, so whoever enqueued it has returned (and announced it queued) first
    void Promise.resolve()
      .then(next.run)
      .finally(() => {
        this.active = null;
        this.pump();
      });
  }
}
