/**
 * Fault 11: run outcomes as the engine reports them. Cancelling one job of four must report
 * the three that finished as finished (each job's outcome travels with the run's event),
 * and the cancelled job's stop is announced at once, not when the whole run ends. The
 * status line's words for both are tested in src/renderer/src/lib/run-notice.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventName } from '../../src/shared/api';
import { type JobStateEvent, RunJobsInput, type RunStateEvent } from '../../src/shared/study-api';
import { WorkbenchService } from '../../src/main/service/workbench-service';
import { createPlaceholderLayout } from '../fixtures/fixture-layout';
import type { TrainingRunner } from '../../src/main/study/runner';

let ws: string;
beforeEach(() => {
  ws = mkdtempSync(join(tmpdir(), 'fault-outcomes-'));
  createPlaceholderLayout(ws);
});
afterEach(() => rmSync(ws, { recursive: true, force: true }));

const JOBS = ['dose_1000-baseline-gs1', 'dose_1000-dense-gs2', 'dose_10000-baseline-gs1', 'dose_100000-baseline-gs1'];

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() - t0 > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Each job trains until released, or until cancelled. */
function gatedRunner() {
  const gates = new Map<string, () => void>();
  const runner: TrainingRunner = (_c, job, _l, ctx) =>
    new Promise((resolve) => {
      const cancelled = () =>
        resolve({ status: 'cancelled', final_loss: null, epochs_completed: 0, checkpoint_path: null });
      if (ctx.signal.aborted) return cancelled();
      ctx.signal.addEventListener('abort', cancelled);
      gates.set(job.id, () => resolve({ status: 'done', final_loss: 0.5, epochs_completed: 1, checkpoint_path: null }));
    });
  return { runner, release: (id: string) => until(() => gates.get(id), `${id} to start`).then((go) => go()) };
}

function start(runner: TrainingRunner) {
  const svc = new WorkbenchService({ transport: 'electron', workspace: ws, runner, probe: async () => [] });
  const events: { event: EventName; payload: unknown }[] = [];
  svc.subscribe((event, payload) => events.push({ event, payload }));
  const of = <T>(name: EventName) => events.filter((e) => e.event === name).map((e) => e.payload as T);
  return { svc, of };
}

describe('run outcomes', () => {
  for (const which of ['running', 'queued'] as const) {
    it(`cancelling one ${which} job of four reports 3 done, 1 cancelled`, async () => {
      const { runner, release } = gatedRunner();
      const { svc, of } = start(runner);
      const out = await svc.runJobs({ roots: {}, jobIds: JOBS, dryRun: false, knobs: {} });
      const target = which === 'running' ? JOBS[0] : JOBS[2];
      await until(
        () => of<JobStateEvent>('jobState').find((s) => s.jobId === JOBS[0] && s.status === 'running'),
        'the first job to run',
      );
      const { cancelled } = await svc.cancelJobs({ jobIds: [target] });
      expect(cancelled).toEqual([target]);
      // The cancelled job's own state arrives while the run goes on: that is what the status
      // line's "Cancelling …" waits for (src/renderer/src/lib/run-notice.ts, tested beside it).
      await until(
        () => of<JobStateEvent>('jobState').find((s) => s.jobId === target && s.status === 'cancelled'),
        'the cancelled job to stop',
      );
      expect(of<RunStateEvent>('runState')).toEqual([]);
      for (const id of JOBS) if (id !== target) await release(id);
      const run = await until(() => of<RunStateEvent>('runState').find((r) => r.runId === out.runId), 'the run');
      expect(run.outcomes).toEqual(JOBS.map((id) => ({ jobId: id, status: id === target ? 'cancelled' : 'done' })));
      expect(run).toMatchObject({ status: 'cancelled', exitCode: 130 });
      const m = await svc.readManifest({});
      expect(m.manifest?.jobs.filter((j) => j.status === 'done')).toHaveLength(3);
    });
  }

  it('the API refuses an out-of-range knob with the knob named, before anything runs', () => {
    const r = RunJobsInput.safeParse({ jobIds: [JOBS[0]], knobs: { learning_rate: 1e308 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['knobs', 'learning_rate']);
  });
});
