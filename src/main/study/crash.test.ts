import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrainingManifest } from '../../shared/manifest';
import { createPlaceholderLayout } from '../../../test/fixtures/fixture-layout';
import { recoverInterrupted } from './recover';
import { bundleFixture } from '../../../test/helpers/bundle-fixture';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'study-crash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('a study killed mid-run', () => {
  it('leaves a valid manifest of what happened, and the killed job is recovered as interrupted', async () => {
    const roots = createPlaceholderLayout(dir);
    const script = join(dir, 'kill-child.mjs');
    await bundleFixture('kill-child', script);
    const child = spawn(process.execPath, [script, roots.phaseCRoot, roots.phaseDRoot, roots.artifactRoot], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    // Kill right after the second job has started: job 1 is done, job 2 running, 7 queued.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child never reached job 2: ${out} ${err}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('started dose_1000-dense-gs2')) {
          clearTimeout(timer);
          setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 60);
        }
      });
    });
    expect(await exited).toBe('SIGKILL');

    const path = join(roots.artifactRoot, 'training_manifest.json');
    const m = TrainingManifest.parse(JSON.parse(readFileSync(path, 'utf8')));
    const status = Object.fromEntries(m.jobs.map((j) => [j.id, j.status]));
    expect(status['dose_1000-baseline-gs1']).toBe('done');
    expect(status['dose_1000-dense-gs2']).toBe('running');
    expect(m.jobs.filter((j) => j.status === 'queued')).toHaveLength(7);
    expect(m.runs[0]).toMatchObject({ status: 'running', exit_code: null, pid: child.pid });

    const recovered = await recoverInterrupted(roots.artifactRoot);
    expect(recovered).toHaveLength(8);
    const after = TrainingManifest.parse(JSON.parse(readFileSync(path, 'utf8')));
    expect(after.jobs.find((j) => j.id === 'dose_1000-dense-gs2')?.status).toBe('interrupted');
    expect(after.jobs.find((j) => j.id === 'dose_1000-baseline-gs1')?.status).toBe('done');
    expect(after.runs[0].status).toBe('interrupted');
    // A write cut by the kill may have left its temp file; the next update sweeps it away.
    expect(readdirSync(roots.artifactRoot).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
