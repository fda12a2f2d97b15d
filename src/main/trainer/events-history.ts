/**
 * A job's `events.jsonl` across attempts. A new attempt only appends to it until its inputs
 * are known good (data loaded and checked, model built); only then does a fresh run start a
 * new curve, and the previous attempts' events move to `events.history.jsonl` (appended,
 * never truncated). A retrain that fails on a bad data file therefore leaves the previous
 * curve in place, with the failure appended after it.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeStaleTempFiles, writeFileAtomicSync } from '../data/atomic';

export const EVENTS_HISTORY_FILE = 'events.history.jsonl';

export interface EventsAttempt {
  /** The inputs are good and this is a fresh run: earlier events move to the history file. */
  startFresh(): void;
}

function appendDurably(path: string, data: Uint8Array): void {
  appendFileSync(path, data);
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function beginEventsAttempt(eventsPath: string): EventsAttempt {
  const dir = dirname(eventsPath);
  removeStaleTempFiles(dir);
  removeStaleTempFiles(join(dir, 'checkpoint'));
  let prior = existsSync(eventsPath) ? statSync(eventsPath).size : 0;
  if (prior > 0) {
    // a line torn by a kill must not swallow this attempt's first event
    const fd = openSync(eventsPath, 'r');
    const last = Buffer.alloc(1);
    try {
      readSync(fd, last, 0, 1, prior - 1);
    } finally {
      closeSync(fd);
    }
    if (last[0] !== 0x0a) {
      appendFileSync(eventsPath, '\n');
      prior += 1;
    }
  }
  return {
    startFresh() {
      if (prior === 0) return;
      const all = readFileSync(eventsPath);
      appendDurably(join(dir, EVENTS_HISTORY_FILE), all.subarray(0, prior));
      writeFileAtomicSync(eventsPath, all.subarray(prior));
      prior = 0;
    },
  };
}
