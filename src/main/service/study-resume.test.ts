import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../shared/api';
import type { TrainEvent } from '../../shared/events';
import type { JobStateEvent, RunStateEvent } from '../../shared/study-api';
import { defaultStudyDesign, type StudyDesign } from '../../shared/study';
import { simulatePhaseC } from '../data/simulate';
import type { TrainingRunner } from '../study/runner';
import { JobWire } from '../trainer/messages';
import { trainJob } from '../trainer/train-job';
import { WorkbenchService } from './workbench-service';

const ID = 'dose_1000-baseline-gs1';
const design: StudyDesign = {
  ...defaultStudyDesign(),
  doses: [1000],
  patch_size: 32,
  model_overrides: { n_filters_scale: 1 },
  training_overrides: { deterministic: true, accelerator: 'cpu' },
};
const knobs = { max_epochs: 3, batch_size: 4 };

let ws: string;
let svc: WorkbenchService;
let cancelAtStep: number | null = null;
const events: { event: EventName; payload: unknown }[] = [];

// the trainer in-process (one thread), cancelling itself at a chosen step as a user's click would
const runner: TrainingRunner = (config, job, logPath, ctx) =>
  trainJob(config, JobWire.parse(job), logPath, {
    ...ctx,
    extras: { threads: 1 },
    onEvent: (e: TrainEvent) => {
      ctx.onEvent(e);
      if (e.type === 'step' && e.step === cancelAtStep) void svc.cancelJobs({ jobIds: [ID] });
    },
  });

function finished(runId: string): Promise<RunStateEvent> {
  return new Promise((resolve) => {
    const tick = () => {
      const hit = events.find((e) => e.event === 'runState' && (e.payload as RunStateEvent).runId === runId);
      if (hit) resolve(hit.payload as RunStateEvent);
      else setTimeout(tick, 20);
    };
    tick();
  });
}

beforeAll(async () => {
  ws = mkdtempSync(join(tmpdir(), 'resume-'));
  await simulatePhaseC(join(ws, 'phase_c'), {
    N: 32,
    objectSize: 128,
    nPositions: 40,
    doses: [1000],
    seed: 7,
    probeDiameterPx: 0.6 * 32,
  });
  svc = new WorkbenchService({ transport: 'http', workspace: ws, runner, design, probe: async () => [] });
  svc.subscribe((event, payload) => events.push({ event, payload }));
}, 60_000);
afterAll(async () => {
  await svc.close();
  rmSync(ws, { recursive: true, force: true });
});

describe('monitoring and resuming a job from the workbench', () => {
  it('plans in numbers, cancels with a reason and an epoch, resumes the same curve, and keeps both attempts and the previews', async () => {
    const plan = await svc.planJobs({ jobIds: [ID], knobs });
    const p = plan.jobs[0].plan;
    expect(p).toBeDefined();
    if (!p) return;
    expect(p.batchSize).toBe(4);
    expect(p.epochs).toBe(3);
    expect(p.trainGroups + p.validationGroups).toBe(p.groups);
    expect(p.stepsPerEpoch).toBe(Math.ceil(p.trainGroups / 4));
    expect(p.totalSteps).toBe(3 * p.stepsPerEpoch);
    expect(p.seconds).toBeCloseTo(p.totalSteps * p.secondsPerStep, 6);
    expect(p.rateSource).toMatch(/bench/); // nothing trained here yet
    expect(plan.total).toEqual({ jobs: 1, totalSteps: p.totalSteps, seconds: p.seconds });

    // cancel two steps into the second epoch
    const cut = p.stepsPerEpoch + 2;
    cancelAtStep = cut;
    const first = await svc.runJobs({ jobIds: [ID], knobs });
    expect((await finished(first.runId)).outcomes).toEqual([{ jobId: ID, status: 'cancelled' }]);
    const started = (await svc.readJobEvents({ jobId: ID, types: ['status'] })).events.find(
      (e) => e.type === 'status' && e.status === 'started',
    );
    // the plan counted what the trainer does
    expect(started).toMatchObject({ total_steps: p.totalSteps, total_epochs: 3 });
    const cancelledState = events
      .map((e) => e.payload as JobStateEvent)
      .find((s) => s.jobId === ID && s.status === 'cancelled');
    expect(cancelledState?.stop).toMatchObject({ status: 'cancelled', epoch: 2, totalEpochs: 3, epochsCompleted: 1 });
    expect(cancelledState?.resumable).toBe(true);
    const listed = (await svc.listJobs({})).jobs.find((j) => j.id === ID);
    expect(listed?.stop?.summary).toBe('cancelled at epoch 2 of 3');
    expect(listed?.resumable).toBe(true);

    cancelAtStep = null;
    const resumed = await svc.resumeJobs({ jobIds: [ID, 'dose_1000-dense-gs2', 'dose_9-baseline-gs1'] });
    expect(resumed.notResumed).toEqual([
      { jobId: 'dose_1000-dense-gs2', reason: 'it was never trained here' },
      { jobId: 'dose_9-baseline-gs1', reason: 'not a job of this study' },
    ]);
    expect(resumed.runIds).toEqual([resumed.runId]);
    expect(resumed.jobIds).toEqual([ID]);
    expect((await finished(resumed.runId)).outcomes).toEqual([{ jobId: ID, status: 'done' }]);

    // one curve: every step once, in order, the resumed ones after the checkpoint's
    const steps = (await svc.readJobEvents({ jobId: ID, types: ['step'] })).events.map((e) =>
      e.type === 'step' ? e.step : -1,
    );
    expect(steps).toEqual(Array.from({ length: p.totalSteps }, (_, i) => i + 1));

    const { attempts } = await svc.listJobAttempts({ jobId: ID });
    expect(attempts.map((a) => [a.runId, a.status, a.resumed, a.current])).toEqual([
      [first.runId, 'cancelled', false, false],
      [resumed.runId, 'done', true, true],
    ]);
    expect(attempts[1]).toMatchObject({ firstStep: cut, lastStep: p.totalSteps });
    const own = await svc.readJobEvents({ jobId: ID, attemptId: attempts[0].attemptId, types: ['step'] });
    expect(own.events.map((e) => (e.type === 'step' ? e.step : -1))).toEqual(
      Array.from({ length: cut }, (_, i) => i + 1),
    );
    await expect(svc.readJobEvents({ jobId: ID, attemptId: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // a preview per completed epoch, over both attempts
    const previews = await svc.listJobPreviews({ jobId: ID });
    expect(previews.previews.map((x) => x.epoch)).toEqual([0, 1, 2]);
    expect(previews.panels).toEqual(['amplitude', 'phase', 'true amplitude', 'true phase']);
    const latest = await svc.readJobPreview({ jobId: ID });
    expect(latest).toMatchObject({ epoch: 2, mime: 'image/png', width: 4 * 32 + 6, height: 32 });
    expect(Buffer.from(latest.base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
    await expect(svc.readJobPreview({ jobId: ID, epoch: 7 })).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // a finished job is not resumed
    const again = await svc.resumeJobs({ jobIds: [ID] });
    expect(again).toMatchObject({
      runIds: [],
      jobIds: [],
      notResumed: [{ jobId: ID, reason: 'it is done, not stopped' }],
    });
  }, 120_000);
});
