import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WorkbenchService } from '../service/workbench-service';
import { COOKIE_NAME } from './auth';
import { httpStatusFor, type RunningServer, startServer } from './server';

let server: RunningServer;
let service: WorkbenchService;
let base: string;

beforeAll(async () => {
  service = new WorkbenchService({
    transport: 'http',
    workspace: '/tmp',
    probe: async () => [{ name: 'cpu', available: true, detail: 'test' }],
  });
  server = await startServer(service, { port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.close());

describe('browser-mode server auth', () => {
  it('prints a URL with a URL-safe token of at least 128 bits', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+$/);
    expect(Buffer.from(server.token, 'base64url').length).toBeGreaterThanOrEqual(16);
  });

  it('rejects a request without the token with 401', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/getInfo`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('rejects a wrong token with 401', async () => {
    const wrong = `${server.token.slice(0, -1)}${server.token.endsWith('A') ? 'B' : 'A'}`;
    expect((await fetch(`${base}/?token=${wrong}`)).status).toBe(401);
    expect(
      (await fetch(`${base}/api/getInfo`, { method: 'POST', headers: { authorization: `Bearer ${wrong}` } })).status,
    ).toBe(401);
    expect(
      (await fetch(`${base}/api/getInfo`, { method: 'POST', headers: { cookie: `${COOKIE_NAME}=${wrong}` } })).status,
    ).toBe(401);
  });

  it('sets an HttpOnly SameSite=Strict cookie on the first request and accepts it afterwards', async () => {
    const first = await fetch(`${base}/?token=${server.token}`);
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const pair = cookie.split(';')[0];
    const res = await fetch(`${base}/api/getInfo`, {
      method: 'POST',
      headers: { cookie: pair, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; result: { onnxruntimeVersion: string; transport: string } };
    expect(body.ok).toBe(true);
    expect(body.result.onnxruntimeVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.result.transport).toBe('http');
  });

  it('accepts a bearer token and reports an unknown method as a 400 with a clear message', async () => {
    const res = await fetch(`${base}/api/noSuchMethod`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { ok: boolean; error: { message: string } };
    expect(body.error.message).toContain("unknown method 'noSuchMethod'");
  });

  it('answers an API error with the HTTP status its code means (404 for a missing file, not 500)', async () => {
    const res = await fetch(`${base}/api/readReportImage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ artifactRoot: '/tmp/ptycho-no-such-root', name: 'absent.png' }),
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { ok: boolean; error: { code: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect([httpStatusFor('LOCKED'), httpStatusFor('TOO_LARGE'), httpStatusFor('INTERNAL')]).toEqual([409, 413, 500]);
  });

  it('refuses a WebSocket without the token and accepts one with it', async () => {
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => {});
    });
    expect(refused).toBe('401');
    const opened = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
      ws.on('open', () => {
        ws.close();
        resolve('open');
      });
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
    });
    expect(opened).toBe('open');
  });

  it('disconnects a WebSocket client that stops reading instead of buffering without bound', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    // The tab stops reading: its socket is paused, so the server's send buffer fills.
    (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const message = 'x'.repeat(64 * 1024);
    const time = new Date().toISOString();
    for (let i = 0; i < 400; i++) {
      service.emit('log', { level: 'info', message, time });
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 10));
    }
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
