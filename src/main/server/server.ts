/**
 * Browser-mode adapter: serves the built renderer, exposes WorkbenchService methods as
 * `POST /api/<method>` and pushes events over a WebSocket at `/ws`. Every request and
 * socket must carry the per-start token (query, cookie or bearer) or gets 401.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import { serializeError } from '../../shared/errors';
import { rendererDir } from '../paths';
import type { WorkbenchService } from '../service/workbench-service';
import { authenticate, newToken, sessionCookie } from './auth';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const MAX_BODY = 1 << 20;

export interface ServeOptions {
  port?: number;
  host?: string;
  token?: string;
  /** Folder with index.html; defaults to the built renderer. */
  staticDir?: string;
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  host: string;
  server: Server;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function serveStatic(res: ServerResponse, root: string, pathname: string): void {
  const rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
  let file = resolve(root, rel || 'index.html');
  if (file !== root && !file.startsWith(root + sep)) {
    send(res, 403, 'Forbidden');
    return;
  }
  if (!existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html'); // SPA fallback
  if (!existsSync(file)) {
    send(res, 503, 'The workbench UI is not built. Run `npm run build` (or `npm ci`, which builds it).');
    return;
  }
  res.writeHead(200, {
    'content-type': MIME[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  createReadStream(file).pipe(res);
}

export async function startServer(service: WorkbenchService, options: ServeOptions = {}): Promise<RunningServer> {
  const token = options.token ?? newToken();
  const host = options.host ?? '127.0.0.1';
  const root = resolve(options.staticDir ?? rendererDir());

  const server = createServer(async (req, res) => {
    const auth = authenticate(req, token);
    if (!auth.ok)
      return send(
        res,
        401,
        'Unauthorized: open the Workbench URL printed by `ptycho-study serve` (it carries the token).',
      );
    if (auth.via === 'query') res.setHeader('set-cookie', sessionCookie(token));
    const url = new URL(req.url ?? '/', 'http://localhost');

    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, 'Use POST for API calls');
      const method = url.pathname.slice('/api/'.length);
      try {
        const raw = await readBody(req);
        const input = raw.trim() ? (JSON.parse(raw) as unknown) : {};
        const result = await service.dispatch(method, input);
        return send(res, 200, JSON.stringify({ ok: true, result }), 'application/json');
      } catch (e) {
        const err = serializeError(e);
        const status = err.code === 'BAD_INPUT' || err.code === 'PATH_OUTSIDE_WORKSPACE' ? 400 : 500;
        return send(res, status, JSON.stringify({ ok: false, error: err }), 'application/json');
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed');
    return serveStatic(res, root, url.pathname);
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws' || !authenticate(req, token).ok) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = service.subscribe((event, payload) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }));
      });
      ws.on('close', unsubscribe);
      ws.on('error', unsubscribe);
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    host,
    server,
    close: () =>
      new Promise<void>((ok) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
