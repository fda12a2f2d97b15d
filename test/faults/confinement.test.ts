/**
 * Fault 8: browser-mode confinement. The server acts on the local disk for a browser tab,
 * so nothing it reads or writes may lie outside the workspace — not through a symbolic
 * link in the report folder (`readReportImage`), and not through the paths a manifest
 * names (a manifest is a file on disk; `evaluateStudy` used to write recon.npz and
 * eval.json wherever it pointed). Real requests against a real server.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvalFixture, noisyTruthReconstructor } from '../fixtures/eval.fixture';
import { type RunningServer, startServer } from '../../src/main/server/server';
import { WorkbenchService } from '../../src/main/service/workbench-service';
import { apiCall } from './http';
import { reportUrl } from '../../src/shared/report-url';

const workspace = mkdtempSync(join(tmpdir(), 'ptycho-fault-confine-'));
const outside = mkdtempSync(join(tmpdir(), 'ptycho-fault-outside-'));
const artifacts = join(workspace, 'artifacts');
const SECRET = 'not for the browser: a file outside the workspace';
let server: RunningServer;

const MOVED_DIR = 'dose_1000-baseline-gs1'; // its artifact_dir will point outside
const MOVED_DATA = 'dose_1000-dense-gs2'; // its test_data_path will point outside

beforeAll(async () => {
  await createEvalFixture(workspace);
  const manifestPath = join(artifacts, 'training_manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    jobs: { id: string; artifact_dir: string; test_data_path: string }[];
  };
  for (const job of manifest.jobs) {
    if (job.id === MOVED_DIR) {
      mkdirSync(join(outside, 'job'), { recursive: true });
      copyFileSync(join(job.artifact_dir, 'model.onnx'), join(outside, 'job', 'model.onnx'));
      job.artifact_dir = join(outside, 'job');
    }
    if (job.id === MOVED_DATA) {
      copyFileSync(job.test_data_path, join(outside, 'test.npz'));
      job.test_data_path = join(outside, 'test.npz');
    }
  }
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  writeFileSync(join(outside, 'secret.png'), SECRET);
  const service = new WorkbenchService({ transport: 'http', workspace, reconstructor: noisyTruthReconstructor });
  server = await startServer(service, { port: 0 });
});
afterAll(async () => {
  await server.close();
  rmSync(workspace, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const call = (method: string, input: unknown) =>
  apiCall(server.port, method, input, { authorization: `Bearer ${server.token}` });

describe('browser mode never follows a path out of the workspace', () => {
  it('evaluateStudy writes nothing where a manifest points outside, and says why', async () => {
    const res = await call('evaluateStudy', { artifactRoot: 'artifacts' });
    expect(res.status).toBe(200);
    const out = JSON.parse(res.body).result as {
      evaluated: string[];
      missing: { job_id: string; state: string; reason: string }[];
    };
    expect(out.evaluated.sort()).toEqual(['dose_10000-baseline-gs1', 'dose_10000-dense-gs2']);
    for (const id of [MOVED_DIR, MOVED_DATA]) {
      const row = out.missing.find((m) => m.job_id === id);
      expect(row?.state, id).toBe('eval_failed');
      expect(row?.reason, id).toContain('outside the workspace');
    }
    expect(existsSync(join(outside, 'job', 'recon.npz'))).toBe(false);
    expect(existsSync(join(outside, 'job', 'eval.json'))).toBe(false);
  });

  it('the comparison and a job view report the refusal instead of reading outside', async () => {
    const cmp = JSON.parse((await call('getComparison', { artifactRoot: 'artifacts' })).body).result as {
      comparison: { rows: { job_id: string; state: string }[] };
    };
    expect(cmp.comparison.rows.find((r) => r.job_id === MOVED_DIR)?.state).toBe('eval_failed');
    const job = JSON.parse((await call('getJobEvaluation', { artifactRoot: 'artifacts', jobId: MOVED_DIR })).body)
      .result as { state: string; reason: string };
    expect(job.state).toBe('eval_failed');
    expect(job.reason).toContain('outside the workspace');
  });

  it('buildReport still builds, without figures for the refused jobs', async () => {
    const res = await call('buildReport', { artifactRoot: 'artifacts' });
    expect(res.status).toBe(200);
    expect(existsSync(join(artifacts, 'report', `${MOVED_DIR}_phase.png`))).toBe(false);
    expect(existsSync(join(artifacts, 'report', 'dose_10000-dense-gs2_phase.png'))).toBe(true);
  });

  it('readReportImage refuses a symbolic link that leads outside the workspace', async () => {
    mkdirSync(join(artifacts, 'report'), { recursive: true });
    symlinkSync(join(outside, 'secret.png'), join(artifacts, 'report', 'leak.png'));
    symlinkSync('/etc/passwd', join(artifacts, 'report', 'passwd.png'));
    for (const name of ['leak.png', 'passwd.png']) {
      const res = await call('readReportImage', { artifactRoot: 'artifacts', name });
      expect(res.status, name).toBe(400);
      const body = JSON.parse(res.body) as { ok: boolean; error: { code: string } };
      expect(body.error.code).toBe('PATH_OUTSIDE_WORKSPACE');
      expect(res.body).not.toContain(Buffer.from(SECRET).toString('base64').slice(0, 16));
    }
  });

  it('a link that stays inside the workspace, and a plain image, are still served', async () => {
    symlinkSync(join(artifacts, 'report', 'dose_10000-dense-gs2_phase.png'), join(artifacts, 'report', 'alias.png'));
    for (const name of ['alias.png', 'dose_10000-dense-gs2_phase.png']) {
      const res = await call('readReportImage', { artifactRoot: 'artifacts', name });
      expect(res.status, name).toBe(200);
      const img = JSON.parse(res.body).result as { base64: string };
      expect(Buffer.from(img.base64, 'base64').subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('serves the report itself (report.html and its images) at /reports/<root>/, and nothing outside', async () => {
    const get = (path: string, auth = true) =>
      fetch(
        `http://127.0.0.1:${server.port}${path}`,
        auth ? { headers: { authorization: `Bearer ${server.token}` } } : {},
      );
    const page = await get(reportUrl('artifacts'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<title>');
    // The page's relative image links resolve to the same route.
    const img = html.match(/<img src="([^"]+\.png)"/)?.[1];
    expect(img).toBeTruthy();
    const png = await get(reportUrl('artifacts', img as string));
    expect(png.status).toBe(200);
    expect(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
    // Without the token: nothing. A link out of the workspace, a root outside it, a path: refused.
    expect((await get(reportUrl('artifacts'), false)).status).toBe(401);
    expect((await get(reportUrl('artifacts', 'leak.png'))).status).toBe(400);
    expect((await get(reportUrl(outside, 'secret.png'))).status).toBe(400);
    expect(await (await get(reportUrl(outside, 'secret.png'))).text()).not.toContain(SECRET);
    expect((await get(`${reportUrl('artifacts')}/../../x`)).status).toBe(400);
    expect((await get(reportUrl('artifacts', 'absent.png'))).status).toBe(404);
  });
});
