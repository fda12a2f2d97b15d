/**
 * A job's event record: every TrainEvent is appended to `events.jsonl` (the contract that
 * curves, ETA and resume are rebuilt from) and written as one readable line to `train.log`.
 * `--logger jsonl|csv` adds an extra per-epoch metrics file beside them.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TrainEvent } from '../../shared/events';
import { writeFailure, writeFileAtomicSync } from '../data/atomic';
import { EVENTS_HISTORY_FILE } from './events-history';

export type ExtraLogger = 'none' | 'jsonl' | 'csv';

export interface JobLog {
  emit(e: TrainEvent): void;
  /** Convenience: a log event at `level`. */
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
}

export function formatEventLine(e: TrainEvent): string {
  const t = e.time;
  switch (e.type) {
    case 'step':
      return `${t} step ${e.step} epoch ${e.epoch + 1} loss ${fmt(e.loss)} (${e.samples_per_s.toFixed(1)} samples/s${e.lr !== undefined ? `, lr ${fmt(e.lr)}` : ''})`;
    case 'epoch':
      return `${t} epoch ${e.epoch + 1} train_loss ${fmt(e.train_loss)} val_loss ${e.val_loss === null ? 'n/a' : fmt(e.val_loss)} lr ${fmt(e.lr)}${e.eta_s !== undefined ? ` eta ${Math.round(e.eta_s)} s` : ''}`;
    case 'status':
      return `${t} status ${e.status}${e.step !== undefined ? ` at step ${e.step}` : ''}${e.message ? `: ${e.message}` : ''}`;
    case 'progress':
      return `${t} progress step ${e.step}/${e.total_steps} epoch ${e.epoch + 1}/${e.total_epochs}${e.eta_s !== null ? ` eta ${Math.round(e.eta_s)} s` : ''}`;
    case 'log':
      return `${t} ${e.level.toUpperCase()} ${e.message}`;
    case 'preview':
      return `${t} preview epoch ${e.epoch + 1}: ${e.file} (${e.bytes} bytes)`;
  }
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(6) : String(v);
}

export interface EventStamp {
  attempt?: string;
  elapsed_s?: number;
  epoch?: number;
  step?: number;
}

function withStamp(e: TrainEvent, st: EventStamp): TrainEvent {
  const out: Record<string, unknown> = { ...e };
  if (out.attempt === undefined && st.attempt !== undefined) out.attempt = st.attempt;
  if (out.elapsed_s === undefined && st.elapsed_s !== undefined) out.elapsed_s = st.elapsed_s;
  if (e.type === 'log' || e.type === 'status') {
    if (out.epoch === undefined && st.epoch !== undefined) out.epoch = st.epoch;
    if (out.step === undefined && st.step !== undefined) out.step = st.step;
  }
  return out as TrainEvent;
}

export function openJobLog(opts: {
  eventsPath: string;
  logPath: string;
  extra?: ExtraLogger;
  /** Live forwarding (IPC to the parent, or the service in-process). */
  forward?: (e: TrainEvent) => void;
  /**
   * Fields an event gets where it has none: the attempt and the job's training time so far
   * (every event), the epoch and step being trained (log and status events).
   */
  stamp?: () => EventStamp;
  /** This attempt's own copy of its events (`runs/<attempt>/events.jsonl`). */
  attemptEventsPath?: string;
}): JobLog {
  const dir = dirname(opts.eventsPath);
  const extra = opts.extra ?? 'none';
  const csvPath = join(dir, 'metrics.csv');
  const jsonlPath = join(dir, 'metrics.jsonl');
  if (extra === 'csv' && !existsSync(csvPath)) writeFileSync(csvPath, 'epoch,step,train_loss,val_loss,lr,time\n');
  // a full disk names the file (Node's write errors carry no path)
  const append = (path: string, text: string) => {
    try {
      appendFileSync(path, text);
    } catch (err) {
      throw writeFailure(path, err);
    }
  };
  let attemptFolderMade = false;
  const appendToAttempt = (path: string, text: string) => {
    if (!attemptFolderMade) {
      try {
        mkdirSync(dirname(path), { recursive: true });
      } catch (err) {
        throw writeFailure(path, err);
      }
      attemptFolderMade = true;
    }
    append(path, text);
  };
  const emit = (e: TrainEvent) => {
    const ev = TrainEvent.parse(opts.stamp ? withStamp(e, opts.stamp()) : e);
    const line = `${JSON.stringify(ev)}\n`;
    append(opts.eventsPath, line);
    if (opts.attemptEventsPath) appendToAttempt(opts.attemptEventsPath, line);
    if (ev.type !== 'progress') append(opts.logPath, `${formatEventLine(ev)}\n`);
    if (ev.type === 'epoch') {
      if (extra === 'csv') {
        append(csvPath, `${ev.epoch},${ev.step ?? ''},${ev.train_loss},${ev.val_loss ?? ''},${ev.lr},${ev.time}\n`);
      } else if (extra === 'jsonl') append(jsonlPath, `${JSON.stringify(ev)}\n`);
    }
    opts.forward?.(ev);
  };
  return {
    emit,
    log: (level, message) => emit({ type: 'log', time: new Date().toISOString(), level, message }),
  };
}

/**
 * Epoch numbers in events are 0-based indices (step and progress events: the epoch being
 * trained; epoch events: the epoch just completed); steps count from 1.
 *
 * Before a resume: drop every event recorded after the checkpoint's step (a crash can leave
 * steps that the restored parameters never saw), so the curve continues without duplicates
 * or gaps. Atomic rewrite; unparsable lines (a torn last line) are dropped too. Dropped
 * lines are appended to `events.history.jsonl` first: history moves, it is never erased.
 */
/** `step` = steps taken, `epoch` = epochs completed at the checkpoint. */
export function truncateEventsAfter(eventsPath: string, step: number, epoch: number): number {
  if (!existsSync(eventsPath)) return 0;
  const lines = readFileSync(eventsPath, 'utf8').split('\n');
  const kept: string[] = [];
  const dropped: string[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    let ev: TrainEvent;
    try {
      ev = TrainEvent.parse(JSON.parse(line));
    } catch {
      dropped.push(line);
      continue;
    }
    const late =
      (ev.type === 'step' && ev.step > step) ||
      (ev.type === 'epoch' && ev.epoch >= epoch) ||
      (ev.type === 'progress' && ev.step > step);
    if (late) dropped.push(line);
    else kept.push(line);
  }
  if (dropped.length) {
    const history = join(dirname(eventsPath), EVENTS_HISTORY_FILE);
    try {
      appendFileSync(history, `${dropped.join('\n')}\n`);
    } catch (e) {
      throw writeFailure(history, e);
    }
  }
  writeFileAtomicSync(eventsPath, kept.length ? `${kept.join('\n')}\n` : '');
  return dropped.length;
}
