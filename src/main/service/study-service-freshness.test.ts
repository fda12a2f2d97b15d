import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName } from '../../shared/api';
import type { RunStateEvent } from '../../shared/study-api';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import type { TrainingRunner } from '../study/runner';
import { WorkbenchService } from './workbench-service';

let ws: string;
let trained: string[];
beforeEach(() => {
  ws = mkdtempSync(join(tmpdir(), 'service-fresh-'));
  createPlaceholderLayout(ws);
  trained = [];
});
afterEach(() => rmSync(ws, { recursive: true, force: true }));

const runner: TrainingRunner = async (config, job) => {
  trained.push(job.id);
  return { status: 'done', final_loss: 1, epochs_completed: config.training.nepochs, checkpoint_path: null };
};

function service() {
  const svc = new WorkbenchService({ transport: 'http', workspace: ws, runner, probe: async () => [] });
  const events: { event: EventName; payload: unknown }[] = [];
  svc.subscribe((event, payload) => events.push({ event, payload }));
  const finished = (runId: string) =>
    new Promise<RunStateEvent>((resolve) => {
      const tick = () => {
        const hit = events.find((e) => e.event === 'runState' && (e.payload as RunStateEvent).runId === runId);
        if (hit) resolve(hit.payload as RunStateEvent);
        else setTimeout(tick, 10);
      };
      tick();
    });
  return { svc, finished };
}

const ID = 'dose_1000-baseline-gs1';

describe('the workbench plan and Run skip up-to-date jobs', () => {
  it('plans "never trained", then "up to date"; a changed knob or Retrain makes it run again', async () => {
    const { svc, finished } = service();
    const knobs = { max_epochs: 2, accelerator: 'cpu' as const };
    expect((await svc.planJobs({ jobIds: [ID], knobs })).jobs).toEqual([
      { jobId: ID, upToDate: false, reasons: ['never trained'] },
    ]);
    const first = await svc.runJobs({ jobIds: [ID], knobs });
    await finished(first.runId);
    expect(trained).toEqual([ID]);

    expect((await svc.planJobs({ jobIds: [ID], knobs })).jobs[0]).toMatchObject({ upToDate: true });
    const listed = await svc.listJobs({});
    expect(listed.jobs.find((j) => j.id === ID)?.freshness).toMatchObject({ upToDate: true });
    const again = await svc.runJobs({ jobIds: [ID], knobs });
    expect(again).toMatchObject({ jobIds: [], upToDate: [ID] });
    expect(trained).toEqual([ID]);

    const plan = await svc.planJobs({ jobIds: [ID], knobs: { ...knobs, max_epochs: 4 } });
    expect(plan.jobs[0]).toEqual({ jobId: ID, upToDate: false, reasons: ['config changed: nepochs 2 → 4'] });
    const forced = await svc.runJobs({ jobIds: [ID], knobs, force: true });
    await finished(forced.runId);
    expect(trained).toEqual([ID, ID]);
  });

  it('a Slurm dry run returns the script plan without submitting', async () => {
    const { svc } = service();
    const r = await svc.runJobs({
      jobIds: [ID],
      knobs: {},
      dryRun: true,
      runOn: 'slurm',
      slurm: { partition: 'gpu', gres: 'gpu:1' },
    });
    expect(r).toMatchObject({ jobIds: [ID], slurmJobId: null, dryRun: true });
    expect(trained).toEqual([]);
  });
});
