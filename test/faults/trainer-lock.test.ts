/**
 * Fault 5, last line of defence: one trainer per job folder, whatever the manifest says.
 * A trainer that still lives (a stand-in process holding `trainer.lock`) makes a second one
 * refuse before it touches the folder — events.jsonl is left exactly as it was — and a lock
 * left by a process that is gone is taken over.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StudyError } from '../../src/shared/errors';
import { simulateTinyStudy, type TinyStudy, tinyConfig, tinyJob } from '../fixtures/trainer.fixture';
import { trainJob } from '../../src/main/trainer/train-job';
import { acquireTrainerLock, TRAINER_LOCK_FILE } from '../../src/main/trainer/trainer-lock';

let study: TinyStudy;
let standIn: ChildProcess | null = null;
beforeAll(async () => {
  study = await simulateTinyStudy({ N: 32, nPositions: 40 });
}, 60_000);
afterAll(() => {
  if (standIn && standIn.exitCode === null) standIn.kill('SIGKILL');
  rmSync(study.root, { recursive: true, force: true });
});

function lockFor(dir: string, pid: number, host = hostname()): void {
  writeFileSync(
    join(dir, TRAINER_LOCK_FILE),
    JSON.stringify({ pid, hostname: host, started_at: '2026-01-01T00:00:00Z' }),
  );
}

async function train(dir: string) {
  const job = tinyJob(study, dir);
  return trainJob(tinyConfig(study, dir, { nepochs: 1 }), job, job.logPath, {
    signal: new AbortController().signal,
    onEvent: () => {},
    extras: { threads: 1, max_steps: 2 },
  });
}

describe('one trainer per job folder', () => {
  it('a second trainer refuses while the first lives, leaving its events untouched, and starts once it is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fault-trainer-lock-'));
    standIn = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const pid = standIn.pid as number;
    lockFor(dir, pid);
    const events = `${JSON.stringify({ type: 'step', time: 't', step: 7, epoch: 0, loss: 1, samples_per_s: 1 })}\n`;
    writeFileSync(join(dir, 'events.jsonl'), events);

    const refused = await train(dir);
    expect(refused.status).toBe('failed');
    expect(refused.error_code).toBe('LOCKED');
    expect(refused.error).toContain(`another trainer is already training in ${dir}`);
    expect(refused.error).toContain(`pid ${pid} on ${hostname()}`);
    expect(readFileSync(join(dir, 'events.jsonl'), 'utf8')).toBe(events);

    const exited = new Promise((r) => standIn?.once('exit', r));
    standIn.kill('SIGKILL');
    await exited;
    const ok = await train(dir);
    expect(ok.status).toBe('done');
    expect(existsSync(join(dir, TRAINER_LOCK_FILE))).toBe(false);
  });

  it('two trainers in one process cannot hold one folder; a lock naming a dead pid is taken over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fault-trainer-lock-'));
    const first = acquireTrainerLock(dir);
    expect(() => acquireTrainerLock(dir)).toThrow(/another trainer is already training/);
    first.release();
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout);
    lockFor(dir, dead);
    const second = acquireTrainerLock(dir);
    expect(JSON.parse(readFileSync(second.path, 'utf8')).pid).toBe(process.pid);
    second.release();
    // an empty lock (a write cut short) is taken over once it is a few seconds old
    writeFileSync(join(dir, TRAINER_LOCK_FILE), '');
    expect(() => acquireTrainerLock(dir)).toThrow(/another trainer/);
    const old = new Date(Date.now() - 10_000);
    utimesSync(join(dir, TRAINER_LOCK_FILE), old, old);
    acquireTrainerLock(dir).release();
    // another host's lock with a fresh heartbeat cannot be checked, so it holds
    lockFor(dir, 1, 'some-other-node');
    let line = '';
    try {
      acquireTrainerLock(dir);
    } catch (e) {
      line = e instanceof StudyError ? e.toLine() : String(e);
    }
    expect(line).toMatch(/LOCKED.*pid 1 on some-other-node/);
  });
});
