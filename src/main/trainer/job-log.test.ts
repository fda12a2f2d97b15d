import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrainEvent } from '../../shared/events';
import { openJobLog } from './job-log';

describe("a job's event record", () => {
  it("stamps every event with its attempt and clock, log and status events with where training stood, and copies them to the attempt's file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'job-log-'));
    let position: { epoch: number; step: number } | null = null;
    const live: TrainEvent[] = [];
    const log = openJobLog({
      eventsPath: join(dir, 'events.jsonl'),
      logPath: join(dir, 'train.log'),
      attemptEventsPath: join(dir, 'runs', 'a1', 'events.jsonl'),
      forward: (e) => live.push(e),
      stamp: () => ({ attempt: 'a1', elapsed_s: 1.5, ...(position ?? {}) }),
    });
    log.log('info', 'loading');
    position = { epoch: 2, step: 7 };
    log.emit({ type: 'step', time: 't', step: 8, epoch: 2, loss: 1, samples_per_s: 3 });
    log.log('warn', 'slow');
    log.emit({ type: 'status', time: 't', status: 'failed', message: 'boom' });
    log.emit({ type: 'status', time: 't', status: 'cancelled', step: 9, epoch: 3 });
    const read = (p: string) =>
      readFileSync(p, 'utf8')
        .trim()
        .split('\n')
        .map((l) => TrainEvent.parse(JSON.parse(l)));
    const events = read(join(dir, 'events.jsonl'));
    expect(events).toEqual(live);
    expect(read(join(dir, 'runs', 'a1', 'events.jsonl'))).toEqual(events);
    expect(events.every((e) => e.attempt === 'a1' && e.elapsed_s === 1.5)).toBe(true);
    expect(events[0]).not.toHaveProperty('epoch');
    // the step event keeps its own fields; log and status events get the position where they lack one
    expect(events[1]).toMatchObject({ step: 8, epoch: 2 });
    expect(events[2]).toMatchObject({ type: 'log', epoch: 2, step: 7 });
    expect(events[3]).toMatchObject({ type: 'status', status: 'failed', epoch: 2, step: 7 });
    expect(events[4]).toMatchObject({ type: 'status', status: 'cancelled', epoch: 3, step: 9 });
  });
});
