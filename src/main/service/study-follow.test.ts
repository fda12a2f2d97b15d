import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStateEvent, TrainEventBatch } from '../../shared/study-api';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import { WorkbenchService } from './workbench-service';
import { bundleFixture } from '../../../test/helpers/bundle-fixture';

let dir: string;
let script: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'follow-'));
  script = join(dir, 'study-run-child.mjs');
  await bundleFixture('study-run-child', script, ['onnxruntime-node']);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ID = 'dose_1000-baseline-gs1';

function runChild(workspace: string, delayMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, workspace, ID, String(delayMs)], { stdio: 'inherit' });
    child.on('exit', (code) => resolve(code));
  });
}

describe('the workbench follows the manifest on disk', () => {
  it('a run in another process shows as job states within a second of each manifest change', async () => {
    const ws = join(dir, 'ws-watch');
    createPlaceholderLayout(ws);
    mkdirSync(join(ws, 'artifacts'), { recursive: true });
    const svc = new WorkbenchService({ transport: 'http', workspace: ws, runner: null, probe: async () => [] });
    const seen: { at: number; state: JobStateEvent }[] = [];
    const curve: TrainEventBatch[] = [];
    svc.subscribe((event, payload) => {
      if (event === 'jobState') seen.push({ at: Date.now(), state: payload as JobStateEvent });
      if (event === 'trainEvent') curve.push(payload as TrainEventBatch);
    });
    try {
      await svc.listJobs({}); // opens the root: from now on it is followed
      expect(await runChild(ws, 400)).toBe(0);
      const deadline = Date.now() + 3000;
      while (!seen.some((s) => s.state.status === 'failed') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const states = seen.map((s) => s.state).filter((s) => s.jobId === ID);
      expect(states.every((s) => s.source === 'manifest')).toBe(true);
      expect(states.map((s) => s.status)).toContain('running');
      const failed = seen.find((s) => s.state.status === 'failed');
      expect(failed?.state).toMatchObject({
        error: 'data file broken',
        stop: { status: 'failed', summary: 'failed at epoch 1: data file broken' },
        resumable: false,
        index: 1,
        total: 1,
      });
      // from the child's write to the push here
      const written = Date.parse(failed?.state.entry?.updated_at ?? '');
      expect((failed?.at ?? Number.POSITIVE_INFINITY) - written).toBeLessThan(1000);
      // its curve came live too, each step once, under the child's run
      const steps = curve.flatMap((b) => b.events.flatMap((e) => (e.type === 'step' ? [e.step] : [])));
      expect(steps).toEqual([1, 2, 3]);
      expect(new Set(curve.map((b) => [b.jobId, b.runId].join()))).toEqual(new Set([`${ID},${failed?.state.runId}`]));
      // a second look at an unchanged manifest reports nothing new
      const count = seen.length;
      await svc.listJobs({});
      await new Promise((r) => setTimeout(r, 1300));
      expect(seen.length).toBe(count);
    } finally {
      await svc.close();
    }
  }, 30_000);

  it('a root whose folder does not exist yet is found by the poll once a run creates it', async () => {
    const ws = join(dir, 'ws-poll');
    createPlaceholderLayout(ws);
    const svc = new WorkbenchService({ transport: 'http', workspace: ws, runner: null, probe: async () => [] });
    const seen: JobStateEvent[] = [];
    svc.subscribe((event, payload) => {
      if (event === 'jobState') seen.push(payload as JobStateEvent);
    });
    try {
      await svc.listJobs({});
      expect(await runChild(ws, 50)).toBe(0);
      const deadline = Date.now() + 3000;
      while (!seen.some((s) => s.status === 'failed') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(seen.at(-1)).toMatchObject({ jobId: ID, status: 'failed', source: 'manifest' });
    } finally {
      await svc.close();
    }
  }, 30_000);
});
