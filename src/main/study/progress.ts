/**
 * Folding a job's training events into its live progress (what the matrix cell and the
 * manifest show), and batching events for the UI so a fast trainer cannot flood it.
 */
import type { TrainEvent } from '../../shared/events';
import type { JobProgress } from '../../shared/manifest';

export function emptyProgress(): JobProgress {
  return { step: null, total_steps: null, epoch: null, total_epochs: null, eta_s: null, last_loss: null };
}

export function foldProgress(p: JobProgress, e: TrainEvent): JobProgress {
  switch (e.type) {
    case 'step':
      return { ...p, step: e.step, epoch: e.epoch, last_loss: e.loss };
    case 'epoch':
      return { ...p, epoch: e.epoch, step: e.step ?? p.step, last_loss: e.train_loss, eta_s: e.eta_s ?? p.eta_s };
    case 'progress':
      return {
        ...p,
        step: e.step,
        total_steps: e.total_steps,
        epoch: e.epoch,
        total_epochs: e.total_epochs,
        eta_s: e.eta_s,
      };
    case 'status':
      return {
        ...p,
        step: e.step ?? p.step,
        epoch: e.epoch ?? p.epoch,
        total_steps: e.total_steps ?? p.total_steps,
        total_epochs: e.total_epochs ?? p.total_epochs,
      };
    default:
      return p;
  }
}

/** Collects events and hands them over in batches at most every `intervalMs`. */
export class EventBatcher {
  private buffer: TrainEvent[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flushTo: (events: TrainEvent[]) => void,
    private readonly intervalMs = 50,
  ) {}

  push(e: TrainEvent): void {
    this.buffer.push(e);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
    this.timer.unref?.();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.flushTo(batch);
  }
}

/** Lets a call through at most once per `intervalMs` (the last state always gets through via `force`). */
export function throttle(intervalMs: number): (force?: boolean) => boolean {
  let last = 0;
  return (force = false) => {
    const now = Date.now();
    if (!force && now - last < intervalMs) return false;
    last = now;
    return true;
  };
}
