/**
 * Live curves of jobs another process trains (a CLI run, a Slurm task on a shared file
 * system): while the manifest says such a job is running, the lines appended to its
 * `events.jsonl` are read every half second and pushed as `trainEvent` batches, so its curve
 * grows in an open workbench as if this service ran it. Reading starts where the file ended
 * when the job was first seen running; what came before is `readJobEvents`'s to give.
 */
import { existsSync, statSync } from 'node:fs';
import type { TrainEvent } from '../../shared/events';
import type { ManifestJob } from '../../shared/manifest';
import { readEventsFrom } from '../trainer/attempts';

export interface ExternalCurveOptions {
  emit(batch: { artifactRoot: string; runId: string; jobId: string; events: TrainEvent[] }): void;
  intervalMs?: number;
}

interface Tail {
  artifactRoot: string;
  runId: string;
  jobId: string;
  path: string;
  offset: number;
}

export class ExternalCurves {
  private readonly tails = new Map<string, Tail>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ExternalCurveOptions) {}

  /** A job entry another process changed: follow its curve while it runs, read the rest once it stops. */
  update(artifactRoot: string, entry: ManifestJob): void {
    const key = `${artifactRoot}\u0000${entry.id}`;
    const tail = this.tails.get(key);
    if (entry.status === 'running' && !entry.dry_run) {
      if (!tail || tail.runId !== entry.run_id) {
        const offset = existsSync(entry.events_path) ? statSync(entry.events_path).size : 0;
        this.tails.set(key, { artifactRoot, runId: entry.run_id, jobId: entry.id, path: entry.events_path, offset });
      }
      this.timer ??= setInterval(() => this.poll(), this.options.intervalMs ?? 500);
      this.timer.unref();
      return;
    }
    if (tail) {
      this.read(tail); // its last events (the final status) before letting go
      this.tails.delete(key);
    }
    if (this.tails.size === 0) this.stopTimer();
  }

  close(): void {
    this.tails.clear();
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private poll(): void {
    for (const tail of this.tails.values()) this.read(tail);
  }

  private read(tail: Tail): void {
    try {
      // a fresh run rewrites the file shorter when it moves the old curve to the history
      if (existsSync(tail.path) && statSync(tail.path).size < tail.offset) tail.offset = 0;
      const r = readEventsFrom(tail.path, tail.offset);
      tail.offset = r.nextByte;
      if (r.events.length)
        this.options.emit({ artifactRoot: tail.artifactRoot, runId: tail.runId, jobId: tail.jobId, events: r.events });
    } catch {
      // unreadable for a moment (being replaced): the next poll tries again
    }
  }
}
