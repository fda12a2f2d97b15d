/**
 * Browser-mode adapter: serves the built renderer, exposes WorkbenchService methods as
 * `POST /api/<method>` and pushes events over a WebSocket at `/ws`. Every request and
 * socket must carry the per-start token (query, cookie or bearer) or gets 401, must name
 * our own host and, from a browser, come from our own origin (see guard.ts). No request,
 * however malformed, may end the process: a training job may be running under it.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { type StudyErrorCode, serializeError } from '../../shared/errors';
import { decodeReportRoot, REPORT_ROUTE } from '../../shared/report-url';
import { rendererDir } from '../paths';
import type { WorkbenchService } from '../service/workbench-service';
import { authenticate, newToken, sessionCookie } from './auth';
import { bindDecision, checkJsonContentType, checkOrigin, type OriginPolicy } from './guard';

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

/** Largest API request body; a bigger one is read to its end, discarded and answered 413. */
export const MAX_BODY = 1 << 20;
/** Past this much a client that keeps sending is cut off instead of drained. */
const MAX_DRAIN = 64 << 20;

/** The page may only talk back to where it came from, and may not be framed by another site. */
const PAGE_CSP = "connect-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";

export interface ServeOptions {
  port?: number;
  host?: string;
  token?: string;
  /** Required to bind a non-loopback address (the server then answers the network). */
  allowRemote?: boolean;
  /** Folder with index.html; defaults to the built renderer. */
  staticDir?: string;
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  host: string;
  /** Set when the bind is reachable from other machines (printed by `serve`). */
  warning?: string;
  server: Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const BASE_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': type });
  res.end(body);
}

/** An API refusal in the same envelope as an API error, so the renderer can show it. */
/** Bytes a WebSocket client may leave unread before it is disconnected. */
export const WS_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** The HTTP status of an API error: the client's fault (4xx) or ours (5xx), by its code. */
export function httpStatusFor(code: StudyErrorCode): number {
  switch (code) {
    case 'BAD_INPUT':
    case 'PATH_OUTSIDE_WORKSPACE':
      return 400;
    case 'NOT_FOUND':
    case 'NO_MATCH':
      return 404;
    case 'LOCKED':
    case 'CANCELLED':
      return 409;
    case 'TOO_LARGE':
      return 413;
    case 'DATA_CONTRACT':
    case 'NPZ_FORMAT':
      return 422;
    case 'PROVIDER_UNAVAILABLE':
      return 503;
    case 'SLURM':
      return 502;
    default:
      return 500;
  }
}

function sendApiError(res: ServerResponse, status: number, message: string): void {
  const code = status === 401 ? 'UNAUTHORIZED' : 'BAD_INPUT';
  send(res, status, JSON.stringify({ ok: false, error: { code, message, details: {} } }), 'application/json');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_DRAIN) {
        req.destroy();
        reject(new HttpError(413, `request body over ${MAX_DRAIN} bytes`));
        return;
      }
      // Over the limit: keep reading (and dropping) so the client gets a 413, not a reset.
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY)
        reject(new HttpError(413, `request body is ${size} bytes; the limit for an API call is ${MAX_BODY} bytes`));
      else resolveBody(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The JSON input of an API call; malformed bytes or JSON are the caller's fault (400). */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8');
  }
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function decodePath(pathname: string): string | null {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return null;
  }
}

function serveStatic(res: ServerResponse, root: string, pathname: string): void {
  const decoded = decodePath(pathname);
  if (decoded === null || decoded.includes('\0')) {
    send(res, 400, 'Bad request: malformed path');
    return;
  }
  const rel = normalize(decoded).replace(/^([/\\])+/, '');
  let file = resolve(root, rel || 'index.html');
  if (file !== root && !file.startsWith(root + sep)) {
    send(res, 403, 'Forbidden');
    return;
  }
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (!isFile(file)) file = join(root, 'index.html'); // SPA fallback
  if (!isFile(file)) {
    send(res, 503, 'The workbench UI is not built. Run `npm run build` (or `npm ci`, which builds it).');
    return;
  }
  const type = MIME[extname(file)] ?? 'application/octet-stream';
  const stream = createReadStream(file);
  stream.once('open', () => {
    res.writeHead(200, {
      ...BASE_HEADERS,
      'content-type': type,
      ...(type.startsWith('text/html') ? { 'content-security-policy': PAGE_CSP, 'x-frame-options': 'DENY' } : {}),
    });
    stream.pipe(res);
  });
  stream.once('error', () => {
    if (!res.headersSent) send(res, 404, 'Not found');
    else res.destroy();
  });
}

/**
 * `/reports/<artifact root, base64url>/<file>` (see shared/report-url.ts): an artifact root's
 * report.html and the files beside it, so "Open report" works in browser mode.
 */
/** The report is our own static HTML (inline styles, SVG and images, no script). */
const REPORT_CSP =
  "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

function serveReport(res: ServerResponse, service: WorkbenchService, pathname: string): void {
  const [encoded, name, ...rest] = pathname.slice(REPORT_ROUTE.length).split('/');
  if (!encoded || !name || rest.length > 0 || !/^[A-Za-z0-9_-]+$/.test(encoded)) {
    send(res, 400, `Bad request: a report is read as ${REPORT_ROUTE}<artifact root, base64url>/<file name>`);
    return;
  }
  let artifactRoot: string;
  try {
    artifactRoot = decodeReportRoot(encoded);
  } catch {
    send(res, 400, 'Bad request: the artifact root in a report URL is not base64url-encoded UTF-8');
    return;
  }
  let file: string;
  try {
    file = service.evaluation.reportFile(artifactRoot, name);
  } catch (e) {
    const err = serializeError(e);
    send(res, httpStatusFor(err.code), `${err.message}${err.details.hint ? ` (${err.details.hint})` : ''}`);
    return;
  }
  const type = MIME[extname(file)] ?? (file.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream');
  const stream = createReadStream(file);
  stream.once('open', () => {
    res.writeHead(200, {
      ...BASE_HEADERS,
      'content-type': type,
      'content-security-policy': REPORT_CSP,
      'x-frame-options': 'DENY',
    });
    stream.pipe(res);
  });
  stream.once('error', () => {
    if (!res.headersSent) send(res, 404, 'Not found');
    else res.destroy();
  });
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

export async function startServer(service: WorkbenchService, options: ServeOptions = {}): Promise<RunningServer> {
  const token = options.token ?? newToken();
  const host = options.host ?? '127.0.0.1';
  const bind = bindDecision(host, options.allowRemote ?? false);
  if (!bind.ok) throw new Error(bind.message);
  const root = resolve(options.staticDir ?? rendererDir());
  const policy: OriginPolicy = { port: 0, bindHost: host, allowRemote: !!options.allowRemote };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isApi = url.pathname.startsWith('/api/');
    const refuse = (status: number, message: string) =>
      isApi ? sendApiError(res, status, message) : send(res, status, message);
    const origin = checkOrigin(req.headers, policy);
    if (!origin.ok) return refuse(origin.status, origin.message);
    const auth = authenticate(req, token);
    if (!auth.ok)
      return refuse(
        401,
        'Unauthorized: open the Workbench URL printed by `ptycho-study serve` (it carries the token).',
      );
    if (auth.via === 'query') res.setHeader('set-cookie', sessionCookie(token));

    if (isApi) {
      if (req.method !== 'POST') return refuse(405, 'Use POST for API calls');
      const json = checkJsonContentType(req.headers);
      if (!json.ok) return refuse(json.status, json.message);
      const method = url.pathname.slice('/api/'.length);
      try {
        const input = parseJsonBody(await readBody(req));
        const result = await service.dispatch(method, input);
        return send(res, 200, JSON.stringify({ ok: true, result }), 'application/json');
      } catch (e) {
        if (e instanceof HttpError) return refuse(e.status, e.message);
        const err = serializeError(e);
        return send(res, httpStatusFor(err.code), JSON.stringify({ ok: false, error: err }), 'application/json');
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed');
    if (url.pathname.startsWith(REPORT_ROUTE)) return serveReport(res, service, url.pathname);
    return serveStatic(res, root, url.pathname);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A bug or a malformed request must cost this request only, never the process.
      if (!res.headersSent) send(res, 400, `Bad request: ${e instanceof Error ? e.message : String(e)}`);
      else res.destroy();
    });
  });

  // One subscription fans out to every socket, however many tabs are open.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const unsubscribe = service.subscribe((event, payload) => {
    if (wss.clients.size === 0) return;
    const frame = JSON.stringify({ event, payload });
    for (const ws of wss.clients) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      // A tab that stopped reading (suspended, stalled network) must not grow this
      // process's memory without bound: drop it; on reconnect it re-reads state from disk.
      if (ws.bufferedAmount > WS_MAX_BUFFERED_BYTES) {
        ws.terminate();
        continue;
      }
      ws.send(frame);
    }
  });
  server.on('upgrade', (req, socket, head) => {
    try {
      socket.on('error', () => socket.destroy());
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') return refuseUpgrade(socket, 404, 'Not Found');
      const origin = checkOrigin(req.headers, policy);
      if (!origin.ok) return refuseUpgrade(socket, 403, 'Forbidden');
      if (!authenticate(req, token).ok) return refuseUpgrade(socket, 401, 'Unauthorized');
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => ws.terminate());
      });
    } catch {
      refuseUpgrade(socket, 400, 'Bad Request');
    }
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  policy.port = port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    host,
    warning: bind.warning,
    server,
    close: () =>
      new Promise<void>((ok) => {
        unsubscribe();
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
