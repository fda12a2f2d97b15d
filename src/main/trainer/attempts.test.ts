import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptEventsFile, listAttempts, readAttemptEvents, readEventsFrom } from './attempts';
import { listPreviews, readPreview, writePreview } from './previews';

const line = (o: object) => `${JSON.stringify(o)}\n`;
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

describe("a job's attempts", () => {
  it('lists an artifact folder written before attempts were kept: its history and its current curve', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attempts-'));
    const events = join(dir, 'events.jsonl');
    writeFileSync(
      join(dir, 'events.history.jsonl'),
      line({ type: 'status', time: t(0), status: 'started', step: 0 }) +
        line({ type: 'step', time: t(1), step: 1, epoch: 0, loss: 5, samples_per_s: 1 }) +
        line({ type: 'status', time: t(2), status: 'cancelled', step: 1 }),
    );
    writeFileSync(
      events,
      line({ type: 'status', time: t(3), status: 'started', step: 0 }) +
        line({ type: 'step', time: t(4), step: 1, epoch: 0, loss: 4, samples_per_s: 1 }) +
        line({ type: 'epoch', time: t(5), epoch: 0, step: 1, train_loss: 4, val_loss: null, lr: 0.001 }) +
        '{"type":"step","ti', // a line torn by a kill
    );
    expect(
      listAttempts(dir, events).map((a) => [a.attemptId, a.status, a.current, a.lastStep, a.epochsCompleted]),
    ).toEqual([
      ['history', 'cancelled', false, 1, null],
      ['current', 'running', true, 1, 1],
    ]);
    expect(attemptEventsFile(dir, events, 'history')).toBe(join(dir, 'events.history.jsonl'));
    expect(attemptEventsFile(dir, events, '../x')).toBeNull();
    expect(attemptEventsFile(dir, events, '20260101T000000Z-abcdef')).toBeNull();
    // only complete lines; the offset stops before the torn one
    const read = readEventsFrom(events);
    expect(read.events).toHaveLength(3);
    expect(read.nextByte).toBe(readFileSync(events, 'utf8').lastIndexOf('\n') + 1);
  });

  it('lists kept attempts oldest first, naming their runs, the resumed one continuing the steps', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attempts-'));
    const events = join(dir, 'events.jsonl');
    const a = '20260101T000000Z-aaaaaa';
    const b = '20260101T000100Z-bbbbbb';
    const first =
      line({ type: 'status', time: t(0), status: 'started', step: 0, attempt: a }) +
      line({ type: 'step', time: t(1), step: 1, epoch: 0, loss: 5, samples_per_s: 1, attempt: a }) +
      line({ type: 'status', time: t(2), status: 'cancelled', step: 1, attempt: a });
    const second =
      line({ type: 'status', time: t(9), status: 'resumed', step: 1, attempt: b }) +
      line({ type: 'step', time: t(10), step: 2, epoch: 0, loss: 4, samples_per_s: 1, attempt: b }) +
      line({ type: 'status', time: t(11), status: 'done', step: 2, attempt: b });
    for (const [id, text] of [
      [a, first],
      [b, second],
    ]) {
      mkdirSync(join(dir, 'runs', id), { recursive: true });
      writeFileSync(join(dir, 'runs', id, 'events.jsonl'), text);
    }
    writeFileSync(events, first + second);
    const listed = listAttempts(dir, events, new Set([b]));
    expect(listed.map((x) => [x.attemptId, x.runId, x.status, x.resumed, x.firstStep, x.lastStep, x.current])).toEqual([
      [a, null, 'cancelled', false, 0, 1, false],
      [b, b, 'done', true, 1, 2, true],
    ]);
    expect(listed[1]).toMatchObject({ startedAt: t(9), endedAt: t(11) });
  });

  it('an old job resumed after attempts began to be kept: its earlier part stays an attempt of its own', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attempts-'));
    const events = join(dir, 'events.jsonl');
    const id = '20260101T000100Z-cccccc';
    const old =
      line({ type: 'status', time: t(0), status: 'started', step: 0 }) +
      line({ type: 'step', time: t(1), step: 1, epoch: 0, loss: 5, samples_per_s: 1 }) +
      line({ type: 'status', time: t(2), status: 'cancelled', step: 1 });
    const resumed =
      line({ type: 'status', time: t(9), status: 'resumed', step: 1, attempt: id }) +
      line({ type: 'step', time: t(10), step: 2, epoch: 0, loss: 4, samples_per_s: 1, attempt: id });
    mkdirSync(join(dir, 'runs', id), { recursive: true });
    writeFileSync(join(dir, 'runs', id, 'events.jsonl'), resumed);
    writeFileSync(events, old + resumed);
    expect(listAttempts(dir, events).map((a) => [a.attemptId, a.status, a.current, a.firstStep, a.lastStep])).toEqual([
      ['current', 'cancelled', false, 0, 1],
      [id, 'running', true, 1, 2],
    ]);
    const legacy = readAttemptEvents(dir, events, 'current');
    expect(legacy?.events.map((e) => e.time)).toEqual([t(0), t(1), t(2)]);
    expect(readAttemptEvents(dir, events, id)?.events).toHaveLength(2);
    expect(readAttemptEvents(dir, events, 'nope')).toBeNull();
  });
});

describe('training previews', () => {
  it('writes a small PNG per epoch and lists and reads them back; without a ground truth only the model panels', () => {
    const dir = mkdtempSync(join(tmpdir(), 'previews-'));
    const n = 8;
    const field = (f: (i: number) => number) => ({
      data: Float32Array.from({ length: n * n }, (_, i) => f(i)),
      size: n,
    });
    for (const epoch of [1, 0, 10])
      writePreview(dir, epoch, 5, { amplitude: field((i) => i / 64 + epoch), phase: field((i) => (i % 7) - 3) });
    const listed = listPreviews(dir, join(dir, 'events.jsonl'));
    expect(listed.previews.map((p) => p.epoch)).toEqual([0, 1, 10]);
    expect(listed).toMatchObject({ group: 5, panels: ['amplitude', 'phase'] });
    const png = readPreview(dir, join(dir, 'events.jsonl'));
    expect(png).toMatchObject({ epoch: 10, file: 'previews/epoch_10.png', width: 2 * n + 2, height: n });
    expect(readPreview(dir, join(dir, 'events.jsonl'), 0).base64).not.toBe(png.base64);
    expect(() => readPreview(dir, join(dir, 'events.jsonl'), 3)).toThrow(/no preview for epoch 3/);
  });
});
