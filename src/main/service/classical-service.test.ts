import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassicalProgressEvent } from '../../shared/classical-api';
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

function serviceWithEvents() {
  const service = new WorkbenchService({ transport: 'cli', workspace: null, probe: async () => [] });
  const events: ClassicalProgressEvent[] = [];
  service.subscribe((event, payload) => {
    if (event === 'classicalProgress') events.push(payload as ClassicalProgressEvent);
  });
  return { service, events };
}

describe('the classical arm through WorkbenchApi', () => {
  it('runs in the background with a live error curve, refuses a second run, and reports states and curves', async () => {
    const { service, events } = serviceWithEvents();
    const started = (await service.dispatch('reconstructClassical', {
      ...roots,
      dose: 1e4,
      view: 'dense',
      iterations: 4,
    })) as { runId: string; jobIds: string[] };
    expect(started.jobIds).toEqual(['dose_10000-dense-classical']);
    await expect(service.dispatch('reconstructClassical', { ...roots, iterations: 2 })).rejects.toThrow(
      /already running/,
    );
    await service.classical.settled();
    const its = events.filter((e) => e.state === 'running' && e.iteration > 0);
    expect(its.map((e) => e.iteration)).toEqual([1, 2, 3, 4]);
    expect(its.every((e) => e.runId === started.runId && (e.error ?? 0) > 0)).toBe(true);
    expect(events.at(-1)).toMatchObject({ state: 'done', iteration: 4 });
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
    // resume: the cancelled job continues from its recon.npz to the asked count
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
  }, 60_000);
});
