/**
 * Fault 4: a page on another 127.0.0.1 port could act as the user. Browsers send the
 * session cookie to every port of the host, so the server must itself refuse what does
 * not come from its own page: a foreign `Origin` (HTTP and WebSocket), a foreign `Host`
 * (DNS rebinding) and API calls that are not `Content-Type: application/json` (a form or
 * beacon, which needs no CORS preflight). A second real server plays the other origin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bindDecision, isLoopbackHost } from '../../src/main/server/guard';
import { type RunningServer, startServer } from '../../src/main/server/server';
import { WorkbenchService } from '../../src/main/service/workbench-service';
import { runCliSync } from '../helpers/cli';
import { apiCall, rawRequest } from './http';

const workspace = mkdtempSync(join(tmpdir(), 'ptycho-fault-origin-'));
let server: RunningServer;
let other: Server;
let otherOrigin: string;
let cookie: string;

beforeAll(async () => {
  const service = new WorkbenchService({
    transport: 'http',
    workspace,
    probe: async () => [{ name: 'cpu', available: true, detail: 'test' }],
    runner: null,
  });
  server = await startServer(service, { port: 0 });
  // The other local program: any page on another port of the same host.
  other = createServer((_req, res) => res.end('<!doctype html><title>another app</title>'));
  await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok));
  otherOrigin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  // The user opened the workbench once, so the browser holds the session cookie.
  const first = await rawRequest(server.port, {
    path: `/?token=${server.token}`,
    headers: { host: `127.0.0.1:${server.port}` },
  });
  cookie = String(first.headers['set-cookie']).split(';')[0];
});
afterAll(async () => {
  await server.close();
  await new Promise<void>((ok) => other.close(() => ok()));
  rmSync(workspace, { recursive: true, force: true });
});

const manifestPath = () => join(workspace, 'artifacts', 'training_manifest.json');
const dryRun = { jobIds: ['dose_1000-baseline-gs1'], dryRun: true, knobs: {} };

function wsStatus(headers: Record<string, string>): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    ws.on('error', () => {});
  });
}

describe('only the workbench page itself may use the session', () => {
  it('the other origin is a real, different server on the same host', async () => {
    const res = await fetch(`${otherOrigin}/`);
    expect(await res.text()).toContain('another app');
    expect(otherOrigin).not.toBe(`http://127.0.0.1:${server.port}`);
  });

  it('an API call from another port, with the cookie, is refused with 403 and changes nothing', async () => {
    const res = await apiCall(server.port, 'runJobs', dryRun, { cookie, origin: otherOrigin });
    expect(res.status).toBe(403);
    const body = JSON.parse(res.body) as { ok: boolean; error: { message: string } };
    expect(body.ok).toBe(false);
    expect(body.error.message).toContain(otherOrigin);
    expect(existsSync(manifestPath())).toBe(false);
  });

  it('a simple cross-origin form post (text/plain, no preflight) is refused', async () => {
    const res = await rawRequest(server.port, {
      method: 'POST',
      path: '/api/runJobs',
      headers: { host: `127.0.0.1:${server.port}`, origin: otherOrigin, cookie, 'content-type': 'text/plain' },
      body: JSON.stringify(dryRun),
    });
    expect(res.status).toBe(403);
    expect(existsSync(manifestPath())).toBe(false);
  });

  it('an API call without Content-Type: application/json is refused with 415, even with the token', async () => {
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const res = await rawRequest(server.port, {
        method: 'POST',
        path: '/api/runJobs',
        headers: {
          host: `127.0.0.1:${server.port}`,
          authorization: `Bearer ${server.token}`,
          ...(type ? { 'content-type': type } : {}),
        },
        body: JSON.stringify(dryRun),
      });
      expect(res.status, String(type)).toBe(415);
      expect(res.body).toContain('application/json');
    }
    expect(existsSync(manifestPath())).toBe(false);
  });

  it('a foreign Host (DNS rebinding) is refused even with the token', async () => {
    for (const host of [`evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, '']) {
      const res = await apiCall(
        server.port,
        'getStudyRoots',
        {},
        {
          host,
          origin: `http://${host}`,
          authorization: `Bearer ${server.token}`,
        },
      );
      expect(res.status, host).toBe(403);
    }
  });

  it('the event stream refuses a WebSocket from another origin and accepts our own', async () => {
    expect(await wsStatus({ cookie, origin: otherOrigin })).toBe('403');
    expect(await wsStatus({ cookie, origin: `http://localhost:${server.port}` })).toBe('403'); // origin ≠ host
    expect(await wsStatus({ cookie, origin: `http://127.0.0.1:${server.port}` })).toBe('open');
    expect(await wsStatus({ cookie })).toBe('open'); // a non-browser client holding the token
  });

  it('the workbench page itself still works: same origin, JSON, cookie; localhost too', async () => {
    const res = await apiCall(server.port, 'runJobs', dryRun, { cookie });
    expect(res.status).toBe(200);
    expect(existsSync(manifestPath())).toBe(true);
    const viaLocalhost = await apiCall(
      server.port,
      'getStudyRoots',
      {},
      {
        cookie,
        host: `localhost:${server.port}`,
        origin: `http://localhost:${server.port}`,
      },
    );
    expect(viaLocalhost.status).toBe(200);
  });

  it('the page is served with a CSP that confines connections to its own origin and forbids framing', async () => {
    const res = await rawRequest(server.port, { headers: { host: `127.0.0.1:${server.port}`, cookie } });
    if (res.status === 503) return; // UI not built: no page to protect
    expect(res.status).toBe(200);
    expect(String(res.headers['content-security-policy'])).toContain("connect-src 'self'");
    expect(String(res.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });
});

describe('binding beyond loopback needs --allow-remote', () => {
  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com', '10.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('startServer refuses 0.0.0.0 without allowRemote and warns with it', async () => {
    const service = new WorkbenchService({ transport: 'http', workspace, runner: null });
    await expect(startServer(service, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/--allow-remote/);
    const d = bindDecision('0.0.0.0', true);
    expect(d.ok && d.warning).toMatch(/every network interface/);
  });

  it('with allowRemote it binds, warns, and still holds requests to Origin = Host', async () => {
    const service = new WorkbenchService({ transport: 'http', workspace, runner: null });
    const remote = await startServer(service, { host: '0.0.0.0', port: 0, allowRemote: true });
    try {
      expect(remote.warning).toMatch(/reachable from other machines/);
      const auth = { authorization: `Bearer ${remote.token}` };
      const lan = `192.0.2.7:${remote.port}`; // a name this machine may be reached by
      const same = await apiCall(remote.port, 'getStudyRoots', {}, { ...auth, host: lan, origin: `http://${lan}` });
      expect(same.status).toBe(200);
      const cross = await apiCall(remote.port, 'getStudyRoots', {}, { ...auth, host: lan, origin: otherOrigin });
      expect(cross.status).toBe(403);
    } finally {
      await remote.close();
    }
  });

  it('`serve --host 0.0.0.0` exits with a clear error and binds nothing', () => {
    const r = runCliSync(['serve', '--host', '0.0.0.0', '--port', '0', '--workspace', workspace]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--allow-remote');
    expect(r.stdout).not.toContain('Workbench:');
  });
});
