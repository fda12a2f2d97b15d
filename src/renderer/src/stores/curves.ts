/**
 * Live and recorded training curves, kept outside React: events append to flat typed
 * arrays as they arrive (any rate), and subscribers — the chart, the matrix's progress —
 * are notified through a coalescer at most ~20 times a second. A job's curve is rebuilt
 * from its events.jsonl after a restart with `replace`, through the same code path.
 */
import type { TrainEvent } from '../../../shared/events';
import { type Coalescer, createCoalescer } from '../lib/coalesce';
import { Series } from '../lib/series';

export interface LiveProgress {
  step: number | null;
  totalSteps: number | null;
  epoch: number | null;
  totalEpochs: number | null;
  etaS: number | null;
  lastLoss: number | null;
  samplesPerS: number | null;
}

export interface JobCurve {
  readonly jobId: string;
  /** Per-step training loss. */
  readonly train: Series;
  /** Per-epoch validation loss, placed at the epoch's last step. */
  readonly val: Series;
  /** Per-epoch mean training loss, placed at the epoch's last step. */
  readonly epochTrain: Series;
  /** The training data's mean-pattern NLL ("learned nothing") and true-object NLL ("perfect"), from step 0 to the last epoch. */
  readonly meanPattern: Series;
  readonly floor: Series;
  /** Wall time (ms since 1970) of each training point, x = step; empty for points loaded without times. */
  readonly trainTime: Series;
  /** Wall time of each validation point, x = step. */
  readonly valTime: Series;
  /** Training seconds since the job's first step, summed over its attempts (events' `elapsed_s`), x = step. */
  readonly trainElapsed: Series;
  readonly valElapsed: Series;
  /** Other per-step scalars by name (lr, samples_per_s, grad_norm, loss_terms.<term>, …), x = step. */
  readonly scalars: Map<string, Series>;
  /** Reconstruction previews written after each epoch (the `preview` events), oldest first. */
  readonly previews: { epoch: number; step: number; file: string }[];
  /** Steps per epoch, from the trainer's start message, its totals or its first epoch; null until known. */
  stepsPerEpoch: number | null;
  progress: LiveProgress;
  /** Bumped on every change so consumers can skip unchanged jobs. */
  revision: number;
  /** Bumped when points are replaced or cut (not merely appended): derived data such as a smoothed line must be rebuilt. */
  generation: number;
}

function emptyProgress(): LiveProgress {
  return {
    step: null,
    totalSteps: null,
    epoch: null,
    totalEpochs: null,
    etaS: null,
    lastLoss: null,
    samplesPerS: null,
  };
}

export class CurveStore {
  private readonly curves = new Map<string, JobCurve>();
  private readonly listeners = new Set<() => void>();
  private readonly coalescer: Coalescer;
  /** Total events folded in; the chart shows it so nothing is dropped silently. */
  eventCount = 0;
  version = 0;

  constructor(intervalMs = 50) {
    this.coalescer = createCoalescer(() => {
      this.version++;
      for (const l of this.listeners) l();
    }, intervalMs);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(jobId: string): JobCurve | undefined {
    return this.curves.get(jobId);
  }

  jobIds(): string[] {
    return [...this.curves.keys()];
  }

  /** Fold one live event in. */
  ingest(jobId: string, ev: TrainEvent): void {
    this.apply(this.curveFor(jobId), ev);
    this.coalescer.poke();
  }

  /** Replace a job's curve with a recorded event list (events.jsonl read back from disk). */
  replace(jobId: string, events: readonly TrainEvent[]): void {
    const c = this.curveFor(jobId);
    reset(c);
    for (const ev of events) this.apply(c, ev);
    this.coalescer.poke();
  }

  /** Load bulk points straight into a job (benchmarks, imports); x must be ascending; the arrays are taken over. */
  loadPoints(jobId: string, steps: Float64Array, losses: Float64Array): void {
    const c = this.curveFor(jobId);
    reset(c);
    c.train.adopt(steps, losses);
    c.revision++;
    this.coalescer.poke();
  }

  dispose(): void {
    this.coalescer.dispose();
    this.listeners.clear();
  }

  private curveFor(jobId: string): JobCurve {
    let c = this.curves.get(jobId);
    if (!c) {
      c = {
        jobId,
        train: new Series(),
        val: new Series(),
        epochTrain: new Series(),
        meanPattern: new Series(),
        floor: new Series(),
        trainTime: new Series(),
        valTime: new Series(),
        trainElapsed: new Series(),
        valElapsed: new Series(),
        scalars: new Map(),
        previews: [],
        stepsPerEpoch: null,
        progress: emptyProgress(),
        revision: 0,
        generation: 0,
      };
      this.curves.set(jobId, c);
    }
    return c;
  }

  private apply(c: JobCurve, ev: TrainEvent): void {
    this.eventCount++;
    c.revision++;
    const p = c.progress;
    switch (ev.type) {
      case 'step': {
        if (c.train.length && ev.step <= c.train.lastX) {
          c.train.truncateFrom(ev.step);
          c.trainTime.truncateFrom(ev.step);
          c.trainElapsed.truncateFrom(ev.step);
          for (const s of c.scalars.values()) s.truncateFrom(ev.step);
          c.generation++;
        }
        c.train.push(ev.step, ev.loss);
        c.trainTime.push(ev.step, Date.parse(ev.time));
        const elapsed = (ev as { elapsed_s?: unknown }).elapsed_s;
        if (typeof elapsed === 'number') c.trainElapsed.push(ev.step, elapsed);
        pushScalars(c, ev.step, ev as unknown as Record<string, unknown>, STEP_FIELDS);
        p.step = ev.step;
        p.epoch = ev.epoch;
        p.lastLoss = ev.loss;
        p.samplesPerS = ev.samples_per_s;
        break;
      }
      case 'epoch': {
        const x = ev.step ?? (c.train.length ? c.train.lastX : ev.epoch);
        for (const s of [c.val, c.epochTrain, c.valTime, c.valElapsed]) if (s.length && x <= s.lastX) s.truncateFrom(x);
        c.epochTrain.push(x, ev.train_loss);
        if (ev.val_loss !== null) {
          c.val.push(x, ev.val_loss);
          c.valTime.push(x, Date.parse(ev.time));
          const elapsed = (ev as { elapsed_s?: unknown }).elapsed_s;
          if (typeof elapsed === 'number') c.valElapsed.push(x, elapsed);
        }
        if (c.stepsPerEpoch === null && ev.step !== undefined && ev.step > 0)
          c.stepsPerEpoch = ev.step / (ev.epoch + 1);
        const refs: [Series, number | null | undefined][] = [
          [c.meanPattern, ev.mean_pattern_nll],
          [c.floor, ev.true_object_nll],
        ];
        for (const [s, v] of refs) {
          if (v === null || v === undefined) continue;
          if (s.length && x <= s.lastX) s.truncateFrom(x);
          if (!s.length && x > 0) s.push(0, v);
          s.push(x, v);
        }
        if (ev.eta_s !== undefined) p.etaS = ev.eta_s;
        break;
      }
      case 'progress': {
        p.step = ev.step;
        p.totalSteps = ev.total_steps;
        p.epoch = ev.epoch;
        p.totalEpochs = ev.total_epochs;
        p.etaS = ev.eta_s;
        if (c.stepsPerEpoch === null && ev.total_epochs > 0) c.stepsPerEpoch = ev.total_steps / ev.total_epochs;
        break;
      }
      case 'status': {
        // A fresh start replaces the curve; a resume continues it.
        if (ev.status === 'started') reset(c);
        const q = c.progress;
        if (ev.total_steps !== undefined) q.totalSteps = ev.total_steps;
        if (ev.total_epochs !== undefined) q.totalEpochs = ev.total_epochs;
        // "…, 12 steps per epoch" in the start message is exact (the totals may be capped by max_steps)
        const spe = /(\d+) steps per epoch/.exec(ev.message ?? '');
        if (spe) c.stepsPerEpoch = Number(spe[1]);
        else if (c.stepsPerEpoch === null && q.totalSteps && q.totalEpochs)
          c.stepsPerEpoch = q.totalSteps / q.totalEpochs;
        if (ev.status === 'done' || ev.status === 'failed' || ev.status === 'cancelled' || ev.status === 'diverged')
          q.etaS = null;
        break;
      }
      case 'preview': {
        // a resumed run rewrites the epochs after its checkpoint
        while (c.previews.length && (c.previews.at(-1) as { epoch: number }).epoch >= ev.epoch) c.previews.pop();
        c.previews.push({ epoch: ev.epoch, step: ev.step, file: ev.file });
        break;
      }
      case 'log':
        break;
    }
  }
}

function reset(c: JobCurve): void {
  c.generation++;
  c.train.clear();
  c.val.clear();
  c.epochTrain.clear();
  c.meanPattern.clear();
  c.floor.clear();
  c.trainTime.clear();
  c.valTime.clear();
  c.trainElapsed.clear();
  c.valElapsed.clear();
  c.scalars.clear();
  c.previews.length = 0;
  c.stepsPerEpoch = null;
  c.progress = emptyProgress();
  c.revision++;
}

/** Step-event fields that are not extra scalars (the loss has its own series). */
const STEP_FIELDS = new Set(['type', 'time', 'step', 'epoch', 'loss', 'elapsed_s', 'attempt']);

/**
 * Every other numeric field of a step event becomes a named scalar series (lr, samples_per_s,
 * and whatever the trainer adds, e.g. grad_norm); an object of numbers (loss terms) becomes
 * one series per key, named `<field>.<key>`.
 */
function pushScalars(c: JobCurve, step: number, ev: Record<string, unknown>, skip: ReadonlySet<string>): void {
  for (const key in ev) {
    if (skip.has(key)) continue;
    const v = ev[key];
    if (typeof v === 'number') scalarSeries(c, key).push(step, v);
    else if (v && typeof v === 'object' && !Array.isArray(v))
      for (const [k, w] of Object.entries(v as Record<string, unknown>))
        if (typeof w === 'number') scalarSeries(c, `${key}.${k}`).push(step, w);
  }
}

function scalarSeries(c: JobCurve, name: string): Series {
  let s = c.scalars.get(name);
  if (!s) {
    s = new Series(64);
    c.scalars.set(name, s);
  }
  return s;
}
