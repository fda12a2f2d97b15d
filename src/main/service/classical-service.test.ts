import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../shared/api';
import type { ClassicalProgressEvent, GetClassicalOutput } from '../../shared/classical-api';
import type { ListQueueOutput } from '../../shared/queue-api';
import type { JobStateEvent, RunStateEvent } from '../../shared/study-api';
import type { TrainingRunner } from '../study/runner';
import { buildOverlapViews } from '../data/overlap';
import { simulatePhaseC } from '../data/simulate';
import { WorkbenchService } from './workbench-service';

let dir: string;
let roots: { phaseCRoot: string; phaseDRoot: string; artifactRoot: string };
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'classical-service-'));
  roots = { phaseCRoot: join(dir, 'phase_c'), phaseDRoot: join(dir, 'phase_d'), artifactRoot: join(dir, 'art') };
  await simulatePhaseC(roots.phaseCRoot, {
    N: 32,
    objectSize: 128,
    nPositions: 240,
    doses: [1e4],
    probeDiameterPx: 19.2,
  });
  await buildOverlapViews(roots.phaseCRoot, roots.phaseDRoot, {});
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serviceWithEvents(runner: TrainingRunner | null = null) {
  const service = new WorkbenchService({ transport: 'cli', workspace: null, probe: async () => [], runner });
  const events: ClassicalProgressEvent[] = [];
  const all: { event: EventName; payload: unknown }[] = [];
  service.subscribe((event, payload) => {
    all.push({ event, payload });
    if (event === 'classicalProgress') events.push(payload as ClassicalProgressEvent);
  });
  return { service, events, all };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A trainer that holds each job until released (or cancelled), recording when it starts and ends. */
function gatedRunner(timeline: string[]) {
  let open = false;
  const waiting: (() => void)[] = [];
  const runner: TrainingRunner = (_c, job, _l, ctx) =>
    new Promise((resolve) => {
      timeline.push(`train ${job.id} start`);
      const finish = (status: 'done' | 'cancelled') => {
        timeline.push(`train ${job.id} ${status}`);
        resolve({ status, final_loss: status === 'done' ? 0.5 : null, epochs_completed: 1, checkpoint_path: null });
      };
      ctx.signal.addEventListener('abort', () => finish('cancelled'));
      if (open) finish('done');
      else waiting.push(() => finish('done'));
    });
  return {
    runner,
    release: () => {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
  };
}

const jobStates = (all: { event: EventName; payload: unknown }[], jobId: string) =>
  all
    .filter((e) => e.event === 'jobState' && (e.payload as JobStateEvent).jobId === jobId)
    .map((e) => (e.payload as JobStateEvent).status);

const runEnded = (all: { event: EventName; payload: unknown }[], runId: string) =>
  all.some((e) => e.event === 'runState' && (e.payload as RunStateEvent).runId === runId);

describe('the classical arm through WorkbenchApi', () => {
  it('runs in the background with a live error curve, queues a second run, refuses one for a busy job, and reports states and curves', async () => {
    const { service, events } = serviceWithEvents();
    const started = (await service.dispatch('reconstructClassical', {
      ...roots,
      dose: 1e4,
      view: 'dense',
      iterations: 4,
    })) as { runId: string; jobIds: string[] };
    expect(started.jobIds).toEqual(['dose_10000-dense-classical']);
    await expect(service.dispatch('reconstructClassical', { ...roots, iterations: 2 })).rejects.toThrow(
      /dose_10000-dense-classical is already queued or running/,
    );
    // another (dose, view) is accepted and waits its turn
    const second = (await service.dispatch('reconstructClassical', {
      ...roots,
      dose: 1e4,
      view: 'baseline',
      iterations: 1,
    })) as { runId: string };
    const queued = (await service.dispatch('getClassical', { artifactRoot: roots.artifactRoot })) as GetClassicalOutput;
    expect(queued.jobs.find((j) => j.jobId === 'dose_10000-baseline-classical')?.state).toBe('queued');
    await service.classical.settled();
    const baseline = events.filter((e) => e.runId === second.runId).map((e) => e.state);
    expect(baseline[0]).toBe('queued');
    expect(baseline.at(-1)).toBe('done');
    // the second run started only once the first had ended
    const firstEnd = events.findIndex((e) => e.runId === started.runId && e.state === 'done');
    const secondStart = events.findIndex((e) => e.runId === second.runId && e.state === 'running');
    expect(firstEnd).toBeGreaterThan(-1);
    expect(secondStart).toBeGreaterThan(firstEnd);
    const its = events.filter((e) => e.runId === started.runId && e.state === 'running' && e.iteration > 0);
    expect(its.map((e) => e.iteration)).toEqual([1, 2, 3, 4]);
    expect(its.every((e) => e.runId === started.runId && (e.error ?? 0) > 0)).toBe(true);
    expect(events.filter((e) => e.runId === started.runId).at(-1)).toMatchObject({ state: 'done', iteration: 4 });
    const got = (await service.dispatch('getClassical', { artifactRoot: roots.artifactRoot })) as {
      jobs: { jobId: string; state: string | null; errors: number[] }[];
      running: unknown;
    };
    expect(got.running).toBeNull();
    const dense = got.jobs.find((j) => j.jobId === 'dose_10000-dense-classical')!;
    expect(dense.state).toBe('done');
    expect(dense.errors).toEqual(its.map((e) => e.error));
    expect(got.jobs.find((j) => j.jobId === 'dose_10000-sparse-classical')!.state).toBeNull();
  }, 60_000);

  it('cancel stops after the current iteration and keeps what was reached', async () => {
    const { service, events } = serviceWithEvents();
    const { runId } = (await service.dispatch('reconstructClassical', {
      ...roots,
      dose: 1e4,
      view: 'sparse',
      iterations: 5000,
    })) as { runId: string };
    while (!events.some((e) => e.iteration >= 2)) await new Promise((r) => setTimeout(r, 5));
    expect(await service.dispatch('cancelClassical', { runId })).toEqual({ cancelled: true });
    await service.classical.settled();
    const last = events.at(-1)!;
    expect(last.state).toBe('cancelled');
    expect(last.iteration).toBeLessThan(5000);
    expect(last.message).toMatch(/cancelled after \d+ iterations/);
    expect(await service.dispatch('cancelClassical', {})).toEqual({ cancelled: false });
    const sparseId = 'dose_10000-sparse-classical';
    const listed = async () =>
      ((await service.dispatch('getClassical', { artifactRoot: roots.artifactRoot })) as GetClassicalOutput).jobs.find(
        (j) => j.jobId === sparseId,
      )!;
    expect(await listed()).toMatchObject({ state: 'cancelled', resumable: true, target: 5000 });
    // a later attempt whose process died mid-run (no end line, no recon.npz written) is interrupted, not running
    const eventsPath = join(roots.artifactRoot, 'dose_10000', 'sparse', 'classical', 'events.jsonl');
    const before = readFileSync(eventsPath, 'utf8');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const attempt = (pid: number) =>
      [
        {
          type: 'status',
          time: 't',
          status: 'resumed',
          epoch: last.iteration,
          total_epochs: 50,
          pid,
          hostname: hostname(),
        },
        { type: 'epoch', time: 't', epoch: last.iteration + 1, train_loss: 0.5, val_loss: null, lr: 0.3 },
        { type: 'epoch', time: 't', epoch: last.iteration + 2, train_loss: 0.4, val_loss: null, lr: 0.3 },
      ]
        .map((e) => `${JSON.stringify(e)}\n`)
        .join('');
    appendFileSync(eventsPath, attempt(dead));
    expect(await listed()).toMatchObject({ state: 'interrupted', resumable: true, target: 50 });
    // while another live process (a terminal's reconstruct) holds it, it is running there
    writeFileSync(
      eventsPath,
      before + attempt(process.ppid).replace('"time":"t"', `"time":"${new Date().toISOString()}"`),
    );
    expect(await listed()).toMatchObject({ state: 'running', resumable: false });
    // …unless that pid belongs to a process started after the attempt (the pid was reused)
    writeFileSync(eventsPath, before + attempt(process.ppid).replace('"time":"t"', '"time":"2001-01-01T00:00:00Z"'));
    expect(await listed()).toMatchObject({ state: 'interrupted', resumable: true });
    writeFileSync(eventsPath, before + attempt(dead));
    // resume: the job continues from its recon.npz (settings as recorded there) to the asked count,
    // and the dead attempt's iterations leave its curve
    const target = last.iteration + 2;
    await service.dispatch('reconstructClassical', {
      ...roots,
      dose: 1e4,
      view: 'sparse',
      iterations: target,
      resume: true,
    });
    await service.classical.settled();
    expect(events.at(-1)).toMatchObject({ state: 'done', iteration: target });
    const got = (await service.dispatch('getClassical', { artifactRoot: roots.artifactRoot })) as {
      jobs: { jobId: string; errors: number[] }[];
    };
    expect(got.jobs.find((j) => j.jobId === 'dose_10000-sparse-classical')!.errors).toHaveLength(target);
    expect(await listed()).toMatchObject({ state: 'done', resumable: false, target });
  }, 60_000);

  it('shares one queue with training: a classical run waits for the training run before it, and a training run for it', async () => {
    const timeline: string[] = [];
    const gate = gatedRunner(timeline);
    const { service, events, all } = serviceWithEvents(gate.runner);
    service.subscribe((event, payload) => {
      const e = payload as ClassicalProgressEvent;
      if (event === 'classicalProgress' && (e.state !== 'running' || e.iteration === 0))
        timeline.push(`classical ${e.jobId} ${e.state}`);
    });
    const art = { ...roots, artifactRoot: join(dir, 'art-queue') };
    const first = await service.runJobs({ roots: art, jobIds: ['dose_10000-dense-gs2'], dryRun: false, knobs: {} });
    await until('the training job to start', () => timeline.includes('train dose_10000-dense-gs2 start'));
    // accepted while training runs (no LOCKED), its job queued
    const classical = (await service.dispatch('reconstructClassical', {
      ...art,
      dose: 1e4,
      view: 'dense',
      iterations: 2,
    })) as { runId: string };
    const second = await service.runJobs({ roots: art, jobIds: ['dose_10000-sparse-gs2'], dryRun: false, knobs: {} });
    const listed = (await service.dispatch('getClassical', { artifactRoot: art.artifactRoot })) as GetClassicalOutput;
    expect(listed.jobs.find((j) => j.jobId === 'dose_10000-dense-classical')?.state).toBe('queued');
    expect(listed.running).toBeNull();
    await new Promise((r) => setTimeout(r, 100));
    expect(events.filter((e) => e.runId === classical.runId).map((e) => e.state)).toEqual(['queued']);
    // the queue lists both kinds in the order they run: the training run computing, then the classical run, then the next training run
    const queue = (await service.dispatch('listQueue', { artifactRoot: art.artifactRoot })) as ListQueueOutput;
    expect(queue.runs).toEqual([
      {
        runId: first.runId,
        kind: 'training',
        state: 'running',
        artifactRoot: art.artifactRoot,
        jobIds: ['dose_10000-dense-gs2'],
      },
      {
        runId: classical.runId,
        kind: 'classical',
        state: 'queued',
        artifactRoot: art.artifactRoot,
        jobIds: ['dose_10000-dense-classical'],
      },
      {
        runId: second.runId,
        kind: 'training',
        state: 'queued',
        artifactRoot: art.artifactRoot,
        jobIds: ['dose_10000-sparse-gs2'],
      },
    ]);
    expect(await service.dispatch('listQueue', { artifactRoot: join(dir, 'elsewhere') })).toEqual({ runs: [] });
    // a dry run goes straight through, past everything queued
    const dry = await service.runJobs({ roots: art, jobIds: ['dose_10000-baseline-gs1'], dryRun: true, knobs: {} });
    await until('the dry run to end', () => runEnded(all, dry.runId));
    gate.release();
    await until('the second training run to end', () => runEnded(all, second.runId));
    expect(runEnded(all, first.runId)).toBe(true);
    expect(timeline).toEqual([
      'train dose_10000-dense-gs2 start',
      'classical dose_10000-dense-classical queued',
      'train dose_10000-dense-gs2 done',
      'classical dose_10000-dense-classical running',
      'classical dose_10000-dense-classical done',
      'train dose_10000-sparse-gs2 start',
      'train dose_10000-sparse-gs2 done',
    ]);
    expect(jobStates(all, 'dose_10000-sparse-gs2')[0]).toBe('queued');
    expect(await service.dispatch('listQueue', {})).toEqual({ runs: [] });
    await service.close();
  }, 60_000);

  it('cancelling a queued classical run takes it out of the queue: its jobs leave queued and it never runs', async () => {
    const timeline: string[] = [];
    const gate = gatedRunner(timeline);
    const { service, events, all } = serviceWithEvents(gate.runner);
    const art = { ...roots, artifactRoot: join(dir, 'art-cancel-queued') };
    const training = await service.runJobs({ roots: art, jobIds: ['dose_10000-dense-gs2'], dryRun: false, knobs: {} });
    await until('the training job to start', () => timeline.length > 0);
    const { runId } = (await service.dispatch('reconstructClassical', { ...art, dose: 1e4, iterations: 2 })) as {
      runId: string;
      jobIds: string[];
    };
    expect(await service.dispatch('cancelClassical', { runId })).toEqual({ cancelled: true });
    const mine = events.filter((e) => e.runId === runId);
    expect(mine.filter((e) => e.state === 'queued')).toHaveLength(3);
    expect(mine.filter((e) => e.state === 'cancelled').map((e) => e.message)).toEqual(
      Array(3).fill('cancelled while queued; nothing was run'),
    );
    const listed = (await service.dispatch('getClassical', { artifactRoot: art.artifactRoot })) as GetClassicalOutput;
    expect(listed.jobs.map((j) => j.state)).not.toContain('queued');
    // the same jobs can be queued again at once
    const again = (await service.dispatch('reconstructClassical', {
      ...art,
      dose: 1e4,
      view: 'dense',
      iterations: 1,
    })) as {
      runId: string;
    };
    // cancelling another root's runs leaves it; cancelling this root's takes it out
    expect(await service.dispatch('cancelClassical', { artifactRoot: join(dir, 'elsewhere') })).toEqual({
      cancelled: false,
    });
    expect(events.filter((e) => e.runId === again.runId).map((e) => e.state)).toEqual(['queued']);
    expect(await service.dispatch('cancelClassical', { artifactRoot: art.artifactRoot })).toEqual({ cancelled: true });
    expect(events.filter((e) => e.runId === again.runId).map((e) => e.state)).toEqual(['queued', 'cancelled']);
    gate.release();
    await until('the training run to end', () => runEnded(all, training.runId));
    await service.classical.settled();
    expect(events.some((e) => e.state === 'running')).toBe(false);
    await service.close();
  }, 60_000);

  it('takes the TV prior for LSQML, refuses it for other algorithms, and resumes with the settings a job was made with', async () => {
    const { service, events } = serviceWithEvents();
    const art = { ...roots, artifactRoot: join(dir, 'art-tv') };
    await expect(
      service.dispatch('reconstructClassical', { ...art, dose: 1e4, view: 'dense', algorithm: 'epie', tv: 0.01 }),
    ).rejects.toThrow(/tv is a prior of the lsqml algorithm, not of epie/);
    await expect(
      service.dispatch('reconstructClassical', { ...art, dose: 1e4, view: 'dense', algorithm: 'lsqml', tv: -1 }),
    ).rejects.toThrow(/invalid input for reconstructClassical: tv/);
    await service.dispatch('reconstructClassical', {
      ...art,
      dose: 1e4,
      view: 'dense',
      algorithm: 'lsqml',
      tv: 0.01,
      iterations: 2,
    });
    await service.classical.settled();
    const file = () =>
      (
        (service.classical.get({ artifactRoot: art.artifactRoot }).file ?? { parameters: {} }) as {
          parameters: Record<string, unknown>;
        }
      ).parameters;
    expect(file()).toMatchObject({ algorithm: 'lsqml', tv: 0.01, iterations: 2 });
    // Resume names no settings: LSQML with its prior is what recon.npz records, so it continues
    await service.dispatch('reconstructClassical', { ...art, dose: 1e4, view: 'dense', iterations: 3, resume: true });
    await service.classical.settled();
    expect(events.at(-1)).toMatchObject({ state: 'done', iteration: 3 });
    expect(file()).toMatchObject({ algorithm: 'lsqml', tv: 0.01, iterations: 3 });
    // a first run that died before writing recon.npz: its start line names its settings, and Resume uses them
    const sparseDir = join(art.artifactRoot, 'dose_10000', 'sparse', 'classical');
    mkdirSync(sparseDir, { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(
      join(sparseDir, 'events.jsonl'),
      `${JSON.stringify({ type: 'status', time: 't', status: 'started', epoch: 0, total_epochs: 2, pid: dead, hostname: hostname(), settings: { algorithm: 'lsqml', tv: 0.02, probe_update: false } })}\n`,
    );
    const sparse = () =>
      service.classical
        .get({ artifactRoot: art.artifactRoot })
        .jobs.find((j) => j.view === 'sparse' && j.dose === 1e4)!;
    expect(sparse()).toMatchObject({ state: 'interrupted', resumable: true, target: 2 });
    await service.dispatch('reconstructClassical', { ...art, dose: 1e4, view: 'sparse', resume: true });
    await service.classical.settled();
    expect(sparse()).toMatchObject({ state: 'done', resumable: false });
    expect(file()).toMatchObject({ algorithm: 'lsqml', tv: 0.02, probe_update: false, iterations: 2 });
  }, 60_000);
});
