/**
 * Attempts: every run of a job (fresh or resumed) keeps its own curve in
 * `runs/<attemptId>/events.jsonl` under the job's folder, beside the job's current curve
 * `events.jsonl` (which a resume continues and a fresh run restarts). Artifact roots from
 * before attempts were kept are still listed: their earlier runs' events
 * (`events.history.jsonl`) as attempt `history`, the current curve as attempt `current`.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TrainEvent, type TrainEventType } from '../../shared/events';
import type { JobAttempt } from '../../shared/study-api';
import { EVENTS_HISTORY_FILE } from './events-history';

export const ATTEMPTS_DIR = 'runs';
export const LEGACY_HISTORY_ATTEMPT = 'history';
export const LEGACY_CURRENT_ATTEMPT = 'current';

/** Sortable by time: `20261203T120501Z-3fa9c2` (a study run's id has the same form). */
export function newAttemptId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function isAttemptId(id: string): boolean {
  return SAFE_ID.test(id) && !id.includes('..');
}

export function attemptEventsPath(artifactDir: string, attemptId: string): string {
  return join(artifactDir, ATTEMPTS_DIR, attemptId, 'events.jsonl');
}

/** Where an attempt's events are, legacy ids included; null for an id that names nothing. */
export function attemptEventsFile(artifactDir: string, eventsPath: string, attemptId: string): string | null {
  if (!isAttemptId(attemptId)) return null;
  if (attemptId === LEGACY_HISTORY_ATTEMPT) return join(dirname(eventsPath), EVENTS_HISTORY_FILE);
  if (attemptId === LEGACY_CURRENT_ATTEMPT) return eventsPath;
  const p = attemptEventsPath(artifactDir, attemptId);
  return existsSync(p) ? p : null;
}

export interface EventsRead {
  events: TrainEvent[];
  skippedLines: number;
  nextByte: number;
}

/** Complete lines of an events file from `fromByte` (a line still being appended is read next time). */
export function readEventsFrom(path: string, fromByte = 0, types?: readonly TrainEventType[]): EventsRead {
  if (!existsSync(path)) return { events: [], skippedLines: 0, nextByte: fromByte };
  const size = statSync(path).size;
  if (fromByte >= size) return { events: [], skippedLines: 0, nextByte: size };
  const buf = Buffer.alloc(size - fromByte);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, fromByte);
  } finally {
    closeSync(fd);
  }
  const end = buf.lastIndexOf(0x0a) + 1;
  const wanted = types ? new Set<string>(types) : null;
  const events: TrainEvent[] = [];
  let skippedLines = 0;
  for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = TrainEvent.safeParse(JSON.parse(line));
      if (!r.success) skippedLines++;
      else if (!wanted || wanted.has(r.data.type)) events.push(r.data);
    } catch {
      skippedLines++;
    }
  }
  return { events, skippedLines, nextByte: fromByte + end };
}

function summarise(
  attemptId: string,
  path: string,
  events: TrainEvent[],
  current: boolean,
): Omit<JobAttempt, 'runId'> & { runId: string | null } {
  let startedAt: string | null = null;
  let status: string | null = null;
  let resumed = false;
  let firstStep: number | null = null;
  let lastStep: number | null = null;
  let epochsCompleted: number | null = null;
  for (const e of events) {
    startedAt ??= e.time;
    if (e.type === 'status') {
      if (e.status === 'started' || e.status === 'resumed') {
        resumed ||= e.status === 'resumed';
        firstStep ??= e.step ?? 0;
      }
      status = e.status;
      if (e.step !== undefined) lastStep = Math.max(lastStep ?? 0, e.step);
    } else if (e.type === 'step') {
      firstStep ??= e.step - 1;
      lastStep = Math.max(lastStep ?? 0, e.step);
    } else if (e.type === 'epoch') {
      epochsCompleted = e.epoch + 1;
      if (e.step !== undefined) lastStep = Math.max(lastStep ?? 0, e.step);
    }
  }
  if (status === 'started' || status === 'resumed') status = 'running';
  return {
    attemptId,
    runId: null,
    startedAt,
    endedAt: events.at(-1)?.time ?? null,
    status,
    resumed,
    firstStep,
    lastStep,
    epochsCompleted,
    current,
    path,
  };
}

function keptAttemptIds(artifactDir: string): string[] {
  const dir = join(artifactDir, ATTEMPTS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && isAttemptId(d.name) && existsSync(join(dir, d.name, 'events.jsonl')))
    .map((d) => d.name)
    .sort();
}

/** Events no kept attempt holds (written before attempts were kept). */
const notKept = (ids: readonly string[]) => (e: TrainEvent) => !e.attempt || !ids.includes(e.attempt);

/**
 * One attempt's events from `fromByte`: a kept attempt's own file, or for the legacy ids the
 * history or current file's events that no kept attempt holds. Null for an unknown id.
 */
export function readAttemptEvents(
  artifactDir: string,
  eventsPath: string,
  attemptId: string,
  fromByte = 0,
  types?: readonly TrainEventType[],
): (EventsRead & { path: string }) | null {
  const path = attemptEventsFile(artifactDir, eventsPath, attemptId);
  if (!path) return null;
  const r = readEventsFrom(path, fromByte, types);
  if (attemptId !== LEGACY_HISTORY_ATTEMPT && attemptId !== LEGACY_CURRENT_ATTEMPT) return { path, ...r };
  return { path, ...r, events: r.events.filter(notKept(keptAttemptIds(artifactDir))) };
}

/**
 * A job's attempts, oldest first. The current one is the attempt whose curve `events.jsonl`
 * holds (the `attempt` field of its events); an attempt that only failed before training
 * (bad data) still counts. An attempt started by a study run has that run's id, so it is
 * the run id when `runIds` (the manifest's runs) has it.
 */
export function listAttempts(
  artifactDir: string,
  eventsPath: string,
  runIds: ReadonlySet<string> = new Set(),
): JobAttempt[] {
  const out: JobAttempt[] = [];
  const history = join(dirname(eventsPath), EVENTS_HISTORY_FILE);
  const dir = join(artifactDir, ATTEMPTS_DIR);
  const ids = keptAttemptIds(artifactDir);
  const currentEvents = readEventsFrom(eventsPath).events;
  const currentIds = new Set(currentEvents.map((e) => e.attempt).filter((a): a is string => !!a));
  const lastCurrent = [...currentIds].at(-1);
  // Events from before attempts were kept: the history file's lines without an attempt id.
  if (existsSync(history)) {
    const legacy = readEventsFrom(history).events.filter(notKept(ids));
    if (legacy.length) out.push(summarise(LEGACY_HISTORY_ATTEMPT, history, legacy, false));
  }
  // the current curve's part from before attempts were kept (a resumed old job continues it)
  const legacyCurrent = currentEvents.filter(notKept(ids));
  if (legacyCurrent.length)
    out.push(summarise(LEGACY_CURRENT_ATTEMPT, eventsPath, legacyCurrent, lastCurrent === undefined));
  for (const id of ids) {
    const path = join(dir, id, 'events.jsonl');
    out.push(summarise(id, path, readEventsFrom(path).events, id === lastCurrent));
  }
  return out.map((a) => ({ ...a, runId: runIds.has(a.attemptId) ? a.attemptId : null }));
}

/** The training clock (`elapsed_s`) of the last event in an events file that has one; 0 if none. */
export function lastElapsedSeconds(eventsPath: string): number {
  if (!existsSync(eventsPath)) return 0;
  const size = statSync(eventsPath).size;
  const length = Math.min(size, 64 << 10);
  const buf = Buffer.alloc(length);
  const fd = openSync(eventsPath, 'r');
  try {
    readSync(fd, buf, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v = (JSON.parse(lines[i]) as { elapsed_s?: unknown }).elapsed_s;
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    } catch {
      // a torn or cut line
    }
  }
  return 0;
}
