import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import { TrainingManifest } from '../../shared/manifest';
import type { JobStateEvent, RunStateEvent } from '../../shared/study-api';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import type { TrainingRunner } from '../study/runner';
import { WorkbenchService } from './workbench-service';

let ws: string;
beforeEach(() => {
  ws = mkdtempSync(join(tmpdir(), 'study-service-'));
});
afterEach(() => rmSync(ws, { recursive: true, force: true }));

const okRunner: TrainingRunner = async (_c, job, _l, ctx) => {
  const time = new Date().toISOString();
  ctx.onEvent({ type: 'epoch', time, epoch: 0, train_loss: 0.9, val_loss: 1.0, lr: 1e-3 });
  appendFileSync(
    job.eventsPath,
    `${JSON.stringify({ type: 'epoch', time, epoch: 0, train_loss: 0.9, val_loss: 1.0, lr: 1e-3 })}\n{"type":"st`,
  );
  return { status: 'done', final_loss: 0.9, epochs_completed: 1, checkpoint_path: null };
};

function service(transport: 'http' | 'electron', runner: TrainingRunner | null = okRunner) {
  const svc = new WorkbenchService({ transport, workspace: ws, runner, probe: async () => [] });
  const events: { event: EventName; payload: unknown }[] = [];
  svc.subscribe((event, payload) => events.push({ event, payload }));
  return { svc, events };
}

function waitForRun(events: { event: EventName; payload: unknown }[], runId: string): Promise<RunStateEvent> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const hit = events.find((e) => e.event === 'runState' && (e.payload as RunStateEvent).runId === runId);
      if (hit) return resolve(hit.payload as RunStateEvent);
      if (Date.now() - t0 > 10_000) return reject(new Error('run did not finish'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('study methods of WorkbenchService', () => {
  it('defaults the roots to the workspace and lists nine jobs with their data status', async () => {
    createPlaceholderLayout(ws, { omit: [{ dose: 100000, view: 'dense' }] });
    const { svc } = service('http');
    const roots = await svc.dispatch('getStudyRoots', {});
    expect(roots).toEqual({
      phaseCRoot: join(ws, 'phase_c'),
      phaseDRoot: join(ws, 'phase_d'),
      artifactRoot: join(ws, 'artifacts'),
      workspace: ws,
      confined: true,
    });
    const list = await svc.listJobs({});
    expect(list.jobs).toHaveLength(9);
    expect(list.hasManifest).toBe(false);
    const missing = list.jobs.filter((j) => j.data.status === 'missing');
    expect(missing.map((j) => j.id)).toEqual(['dose_100000-dense-gs2']);
    expect(missing[0].data.missingFiles).toEqual([
      join(ws, 'phase_d', 'dose_100000', 'dense', 'dense_train.npz'),
      join(ws, 'phase_d', 'dose_100000', 'dense', 'dense_test.npz'),
    ]);
    expect(list.jobs.every((j) => j.state === null)).toBe(true);
    expect(list.manifestError).toBeNull();
    mkdirSync(join(ws, 'artifacts'));
    writeFileSync(join(ws, 'artifacts', 'training_manifest.json'), '{"timestamp": ');
    const damaged = await svc.listJobs({});
    expect(damaged.jobs).toHaveLength(9);
    expect(damaged.manifestError).toMatch(/DATA_CONTRACT: manifest is not valid JSON/);
    await expect(svc.readManifest({})).rejects.toMatchObject({ code: 'DATA_CONTRACT' });
  });

  it('runs a selection in the background, pushes job states and events, and lists the results', async () => {
    createPlaceholderLayout(ws, { omit: [{ dose: 100000, view: 'dense' }] });
    const { svc, events } = service('http');
    const out = (await svc.dispatch('runJobs', {
      jobIds: ['dose_1000-baseline-gs1', 'dose_100000-dense-gs2'],
      knobs: { max_epochs: 1 },
    })) as { runId: string; manifestPath: string };
    expect(out.manifestPath).toBe(join(ws, 'artifacts', 'training_manifest.json'));
    const finished = await waitForRun(events, out.runId);
    expect(finished).toMatchObject({ status: 'done', exitCode: 0 });
    const states = events.filter((e) => e.event === 'jobState').map((e) => e.payload as JobStateEvent);
    const transitions = states.map((s) => `${s.jobId}:${s.status}`).filter((t, i, all) => t !== all[i - 1]);
    expect(transitions).toEqual([
      'dose_1000-baseline-gs1:queued',
      'dose_100000-dense-gs2:skipped',
      'dose_1000-baseline-gs1:running',
      'dose_1000-baseline-gs1:done',
    ]);
    expect(events.some((e) => e.event === 'trainEvent')).toBe(true);
    const list = await svc.listJobs({});
    const byId = Object.fromEntries(list.jobs.map((j) => [j.id, j]));
    expect(byId['dose_1000-baseline-gs1'].state?.result?.final_loss).toBe(0.9);
    expect(byId['dose_100000-dense-gs2'].state?.status).toBe('skipped');
    const m = await svc.readManifest({});
    expect(TrainingManifest.parse(JSON.parse(m.raw ?? ''))).toEqual(m.manifest);
    expect(m.skipSummary?.skipped_count).toBe(1);
    const ev = await svc.readJobEvents({ jobId: 'dose_1000-baseline-gs1' });
    expect(ev.events).toHaveLength(1);
    expect(ev.skippedLines).toBe(0); // the cut last line is left for the next read
    const eventsPath = join(ws, 'artifacts', 'dose_1000', 'baseline', 'gs1', 'events.jsonl');
    appendFileSync(eventsPath, `atus","time":"t","status":"done"}\n{"type":"bogus","time":"t"}\n`);
    const more = await svc.readJobEvents({ jobId: 'dose_1000-baseline-gs1', fromByte: ev.nextByte });
    expect(more.events).toEqual([{ type: 'status', time: 't', status: 'done' }]);
    expect(more.skippedLines).toBe(1);
    expect(more.nextByte).toBe(readFileSync(eventsPath).length);
    const epochsOnly = await svc.readJobEvents({ jobId: 'dose_1000-baseline-gs1', types: ['epoch'] });
    expect(epochsOnly.events.map((e) => e.type)).toEqual(['epoch']);
    const log = await svc.readJobLog({ jobId: 'dose_1000-baseline-gs1', tailBytes: 120 });
    expect(log.truncated).toBe(true);
    expect(log.size).toBeGreaterThan(120);
    expect(log.text).toMatch(/^=== \S+ done final_loss=0\.9\n$/m);
    expect(log.text.length).toBeLessThanOrEqual(120);
  });

  it('cancels queued and running jobs', async () => {
    createPlaceholderLayout(ws);
    const slow: TrainingRunner = (_c, _j, _l, ctx) =>
      new Promise((resolve) => {
        const done = () =>
          resolve({ status: 'cancelled', final_loss: null, epochs_completed: 0, checkpoint_path: null });
        if (ctx.signal.aborted) return done();
        ctx.signal.addEventListener('abort', done);
      });
    const { svc, events } = service('electron', slow);
    const out = await svc.runJobs({
      roots: {},
      jobIds: ['dose_1000-baseline-gs1', 'dose_10000-baseline-gs1'],
      dryRun: false,
      knobs: {},
    });
    const { cancelled } = await svc.cancelJobs({ all: true });
    expect(cancelled.sort()).toEqual(['dose_1000-baseline-gs1', 'dose_10000-baseline-gs1']);
    expect(await waitForRun(events, out.runId)).toMatchObject({ status: 'cancelled', exitCode: 130 });
    const m = await svc.readManifest({});
    expect(m.manifest?.jobs.map((j) => j.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('dry-runs a selection without a runner and records planned jobs', async () => {
    createPlaceholderLayout(ws);
    const { svc, events } = service('http', null);
    const out = await svc.runJobs({ roots: {}, jobIds: ['dose_1000-baseline-gs1'], dryRun: true, knobs: {} });
    await waitForRun(events, out.runId);
    const m = await svc.readManifest({});
    expect(m.manifest?.dry_run).toBe(true);
    expect(m.manifest?.jobs).toHaveLength(1);
    expect(m.manifest?.jobs[0]).toMatchObject({ status: 'planned', dry_run: true });
    expect(readFileSync(join(ws, 'artifacts', 'dose_1000', 'baseline', 'gs1', 'train.log'), 'utf8')).toMatch(
      /^DRY RUN/,
    );
  });

  it('fails each job with RUNNER_MISSING when no trainer is registered', async () => {
    createPlaceholderLayout(ws);
    const { svc, events } = service('http', null);
    const out = await svc.runJobs({ roots: {}, jobIds: ['dose_1000-baseline-gs1'], dryRun: false, knobs: {} });
    expect(await waitForRun(events, out.runId)).toMatchObject({ status: 'failed', exitCode: 1 });
    const states = events.filter((e) => e.event === 'jobState').map((e) => e.payload as JobStateEvent);
    expect(states.at(-1)).toMatchObject({ status: 'failed', errorCode: 'RUNNER_MISSING' });
  });

  it('refuses roots outside the workspace in browser mode: .., absolute elsewhere, symlinks out', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    try {
      mkdirSync(join(ws, 'inner'));
      symlinkSync(outside, join(ws, 'inner', 'link'));
      const { svc } = service('http');
      for (const root of ['../elsewhere', outside, 'inner/link', 'inner/link/artifacts']) {
        await expect(svc.listJobs({ artifactRoot: root })).rejects.toMatchObject({ code: 'PATH_OUTSIDE_WORKSPACE' });
      }
      await expect(svc.dispatch('readManifest', { artifactRoot: '../x' })).rejects.toBeInstanceOf(StudyError);
      // A job folder inside the artifact root that links out is not read either.
      mkdirSync(join(ws, 'artifacts', 'dose_1000', 'baseline'), { recursive: true });
      symlinkSync(outside, join(ws, 'artifacts', 'dose_1000', 'baseline', 'gs1'));
      writeFileSync(join(outside, 'train.log'), 'secret');
      await expect(svc.readJobLog({ jobId: 'dose_1000-baseline-gs1', tailBytes: 100 })).rejects.toMatchObject({
        code: 'PATH_OUTSIDE_WORKSPACE',
      });
      await expect(
        svc.runJobs({ roots: {}, jobIds: ['dose_1000-baseline-gs1'], dryRun: true, knobs: {} }),
      ).rejects.toMatchObject({ code: 'PATH_OUTSIDE_WORKSPACE' });
      const ok = await svc.listJobs({ artifactRoot: 'inner/new-artifacts' });
      expect(ok.roots.artifactRoot).toBe(join(ws, 'inner', 'new-artifacts'));
      // The Electron app is the user's own program: not confined.
      const { svc: desktop } = service('electron');
      expect((await desktop.listJobs({ artifactRoot: outside })).roots.artifactRoot).toBe(outside);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('rejects unknown job ids and bad knobs at the boundary', async () => {
    const { svc } = service('http');
    await expect(svc.dispatch('runJobs', { jobIds: ['dose_1000-baseline-gs9'] })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    await expect(
      svc.dispatch('runJobs', { jobIds: ['dose_1000-baseline-gs1'], knobs: { max_epochs: -1 } }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(svc.runJobs({ roots: {}, jobIds: ['dose_7-baseline-gs1'], dryRun: true, knobs: {} })).rejects.toThrow(
      /unknown job id/,
    );
  });

  it('marks a job left running by a vanished process as interrupted when the service starts', async () => {
    createPlaceholderLayout(ws);
    const { svc, events } = service('http', null);
    const out = await svc.runJobs({ roots: {}, jobIds: ['dose_1000-baseline-gs1'], dryRun: true, knobs: {} });
    await waitForRun(events, out.runId);
    const path = join(ws, 'artifacts', 'training_manifest.json');
    const m = TrainingManifest.parse(JSON.parse(readFileSync(path, 'utf8')));
    const gone = 2 ** 22 + 4321;
    m.jobs[0] = { ...m.jobs[0], status: 'running', worker: { pid: gone, hostname: m.runs[0].hostname, run_id: 'r' } };
    writeFileSync(path, JSON.stringify(m));
    const fresh = new WorkbenchService({ transport: 'http', workspace: ws, probe: async () => [] });
    await fresh.study.ready;
    const after = TrainingManifest.parse(JSON.parse(readFileSync(path, 'utf8')));
    expect(after.jobs[0].status).toBe('interrupted');
  });
});
