/**
 * Fault 1: one malformed request must not end `ptycho-study serve`. A stray `%` in a cookie
 * or in the path used to throw a URIError out of the request handler and kill the process
 * (orphaning any job that was training). Runs the real CLI server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli';
import { apiCall, rawRequest } from './http';

const workspace = mkdtempSync(join(tmpdir(), 'ptycho-fault-crash-'));
let proc: ReturnType<typeof startCli>;
let port: number;
let token: string;

beforeAll(async () => {
  proc = startCli(
    ['serve', '--port', '0', '--workspace', workspace],
    /Workbench: http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+)\n/,
  );
  const m = await proc.ready;
  port = Number(m[1]);
  token = m[2];
});
afterAll(async () => {
  await proc?.stop();
  rmSync(workspace, { recursive: true, force: true });
});

async function stillServing(): Promise<void> {
  expect(proc.child.exitCode).toBeNull();
  const res = await apiCall(port, 'getStudyRoots', {}, { authorization: `Bearer ${token}` });
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).ok).toBe(true);
}

describe('malformed requests do not kill the server', () => {
  it("a cookie 'x=%' without a token gets 401 and the server keeps serving", async () => {
    const res = await rawRequest(port, { headers: { host: `127.0.0.1:${port}`, cookie: 'x=%' } });
    expect(res.status).toBe(401);
    await stillServing();
  });

  it('a malformed session cookie value is refused, not thrown', async () => {
    const res = await rawRequest(port, {
      headers: { host: `127.0.0.1:${port}`, cookie: `ptycho_study_token=%E0%A4%A; other=%%` },
    });
    expect(res.status).toBe(401);
    await stillServing();
  });

  it("a '%' in the path gets 400 and the server keeps serving", async () => {
    for (const path of ['/%', '/assets/%E0%A4%A.js', '/%zz', '/a%00b']) {
      const res = await rawRequest(port, {
        path: `${path}?token=${token}`,
        headers: { host: `127.0.0.1:${port}` },
      });
      expect(res.status, path).toBe(400);
    }
    await stillServing();
  });

  it('a malformed WebSocket upgrade is refused and the server keeps serving', async () => {
    const res = await rawRequest(port, {
      path: `/ws?token=${token}`,
      headers: { host: `127.0.0.1:${port}`, cookie: 'x=%', connection: 'Upgrade', upgrade: 'websocket' },
    }).catch((e: unknown) => ({ status: -1, body: String(e), headers: {} }));
    expect(res.status).not.toBe(101);
    await stillServing();
  });
});
