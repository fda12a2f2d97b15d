import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkbenchService } from './workbench-service';

const root = mkdtempSync(join(tmpdir(), 'ptycho-demo-service-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const probe = async () => [{ name: 'cpu' as const, available: true, detail: 'test' }];

describe('createDemoStudy through WorkbenchService', () => {
  it('writes a complete Phase C + D study into the workspace, reports progress, and lists nine ready jobs', async () => {
    const workspace = join(root, 'ws1');
    mkdirSync(workspace);
    const service = new WorkbenchService({ transport: 'http', workspace, probe, runner: null });
    const progress: string[] = [];
    const off = service.subscribe((event, payload) => {
      if (event === 'demoProgress') progress.push(`${(payload as { phase: string }).phase}`);
    });
    const r = (await service.dispatch('createDemoStudy', {})) as { phaseCRoot: string; created: boolean };
    off();
    expect(r.created).toBe(true);
    expect(r.phaseCRoot).toBe(join(workspace, 'phase_c'));
    expect(existsSync(join(workspace, 'phase_c', 'dose_1000', 'patched_train.npz'))).toBe(true);
    expect(existsSync(join(workspace, 'phase_d', 'dose_100000', 'sparse', 'sparse_test.npz'))).toBe(true);
    expect(progress).toContain('C');
    expect(progress).toContain('D');
    const listing = (await service.dispatch('listJobs', {})) as { jobs: Array<{ data: { status: string } }> };
    expect(listing.jobs.map((j) => j.data.status)).toEqual(Array(9).fill('ready'));
  });

  it('never overwrites a folder that already holds Phase C data', async () => {
    const workspace = join(root, 'ws2');
    const marker = join(workspace, 'phase_c', 'dose_1000', 'patched_train.npz');
    mkdirSync(join(workspace, 'phase_c', 'dose_1000'), { recursive: true });
    writeFileSync(marker, 'user data');
    const before = statSync(marker).mtimeMs;
    const service = new WorkbenchService({ transport: 'http', workspace, probe, runner: null });
    const r = (await service.dispatch('createDemoStudy', {})) as { created: boolean };
    expect(r.created).toBe(false);
    expect(statSync(marker).mtimeMs).toBe(before);
    expect(readdirSync(workspace)).toEqual(['phase_c']);
  });

  it("creates the study where phase_c holds only a killed run's hidden staging folder", async () => {
    const workspace = join(root, 'ws4');
    mkdirSync(join(workspace, 'phase_c', '.staging.4195303.0a1b2c3d.tmp', 'dose_1000'), { recursive: true });
    const service = new WorkbenchService({ transport: 'http', workspace, probe, runner: null });
    const r = (await service.dispatch('createDemoStudy', {})) as { created: boolean };
    expect(r.created).toBe(true);
    expect(existsSync(join(workspace, 'phase_c', 'dose_1000', 'patched_train.npz'))).toBe(true);
  });

  it('refuses a folder outside the workspace in browser mode', async () => {
    const service = new WorkbenchService({ transport: 'http', workspace: join(root, 'ws3'), probe, runner: null });
    await expect(service.dispatch('createDemoStudy', { folder: '../elsewhere' })).rejects.toMatchObject({
      code: 'PATH_OUTSIDE_WORKSPACE',
    });
    expect(existsSync(join(root, 'elsewhere'))).toBe(false);
  });
});
