/**
 * Stopping `ptycho-study serve` (SIGTERM as the OS sends it, SIGHUP when its terminal closes) while a job trains
 * cancels it cleanly: the manifest records `cancelled`, not a zombie `running`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from './helpers/cli';

const workspace = mkdtempSync(join(tmpdir(), 'ptycho-serve-stop-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

interface ManifestJob {
  id: string;
  status: string;
}

async function api(base: string, token: string, method: string, input: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/api/${method}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { ok: boolean; result: Record<string, unknown>; error?: { message: string } };
  if (!body.ok) throw new Error(`${method}: ${body.error?.message}`);
  return body.result;
}

describe('serve shutdown', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)(
    '%s while a job trains records the job as cancelled',
    { timeout: 240_000 },
    async (signal) => {
      const proc = startCli(
        ['serve', '--port', '0', '--workspace', workspace, '--demo'],
        /Workbench: (http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)\n/,
      );
      const m = await proc.ready;
      const [base, token] = [m[1], m[2]];
      const jobId = 'dose_1000-baseline-gs1';
      const run = await api(base, token, 'runJobs', {
        jobIds: [jobId],
        knobs: { max_epochs: 50, n_groups: 64, batch_size: 8 },
      });
      const manifestPath = String(run.manifestPath);
      const statusOf = (): string | undefined => {
        try {
          const jobs = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { jobs: ManifestJob[] }).jobs;
          return jobs.find((j) => j.id === jobId)?.status;
        } catch {
          return undefined;
        }
      };
      const deadline = Date.now() + 120_000;
      while (statusOf() !== 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(statusOf()).toBe('running');
      const exited = new Promise<number | null>((resolve) => proc.child.once('exit', (code) => resolve(code)));
      proc.child.kill(signal);
      expect(await exited).toBe(0);
      expect(statusOf()).toBe('cancelled');
    },
  );
});
