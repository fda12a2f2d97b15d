/**
 * Who may talk to the browser-mode server besides holding the token. The session cookie is
 * sent by the browser to every port of 127.0.0.1 (cookies ignore ports), so a page served
 * by any other local program could otherwise call the API and read the event stream as
 * the user. Every request must therefore name one of our own hosts (`Host`, which also
 * defeats DNS rebinding), a browser request must come from our own origin (`Origin`), and
 * API calls must be `Content-Type: application/json` (a cross-origin page cannot send that
 * without a CORS preflight, which this server never grants).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';

export interface OriginPolicy {
  /** The port the server listens on. */
  port: number;
  /** The address it is bound to (as given to listen). */
  bindHost: string;
  /** A non-loopback bind the user asked for explicitly (`--allow-remote`): any Host name is accepted. */
  allowRemote: boolean;
}

export type GuardResult = { ok: true } | { ok: false; status: 400 | 403 | 415; message: string };

/** 127.0.0.0/8, ::1 (with or without brackets) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice('::ffff:'.length));
  return isIP(h) === 4 && h.startsWith('127.');
}

/** `name[:port]` of a Host header or an origin's authority; null when it does not parse. */
function splitAuthority(authority: string): { hostname: string; port: number } | null {
  try {
    const u = new URL(`http://${authority}`);
    if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) return null;
    return { hostname: u.hostname.toLowerCase(), port: u.port === '' ? 80 : Number(u.port) };
  } catch {
    return null;
  }
}

function hostAllowed(host: string | undefined, policy: OriginPolicy): boolean {
  if (!host) return false;
  const a = splitAuthority(host);
  if (!a || a.port !== policy.port) return false;
  if (policy.allowRemote) return true;
  return isLoopbackHost(a.hostname);
}

/**
 * Host and Origin rules for every request and WebSocket upgrade. A missing Origin is a
 * non-browser client (curl, a script) that holds the token; browsers always send one on
 * POST and on WebSocket handshakes.
 */
export function checkOrigin(headers: IncomingHttpHeaders, policy: OriginPolicy): GuardResult {
  const host = headers.host;
  if (!hostAllowed(host, policy)) {
    return {
      ok: false,
      status: 403,
      message: `Forbidden: Host '${host ?? ''}' is not this workbench (expected 127.0.0.1:${policy.port} or localhost:${policy.port})`,
    };
  }
  const origin = headers.origin;
  if (origin === undefined) return { ok: true };
  if (origin.toLowerCase() !== `http://${String(host).toLowerCase()}`) {
    return {
      ok: false,
      status: 403,
      message: `Forbidden: a request from origin '${origin}' is not from this workbench's own page (http://${host})`,
    };
  }
  return { ok: true };
}

/** API calls carry JSON and say so; anything else could come from a cross-origin form or beacon. */
export function checkJsonContentType(headers: IncomingHttpHeaders): GuardResult {
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') return { ok: true };
  return {
    ok: false,
    status: 415,
    message: `API calls must send Content-Type: application/json (got '${headers['content-type'] ?? 'none'}')`,
  };
}

/**
 * Whether `serve --host <addr>` may bind there. Loopback always; anything else only with
 * `--allow-remote`, because the workbench then answers every machine that can reach it.
 */
export function bindDecision(
  host: string,
  allowRemote: boolean,
): { ok: true; warning?: string } | { ok: false; message: string } {
  if (isLoopbackHost(host)) return { ok: true };
  const what =
    host === '0.0.0.0' || host === '::' ? `'${host}' (every network interface)` : `'${host}' (not a loopback address)`;
  if (!allowRemote) {
    return {
      ok: false,
      message: `refusing to bind ${what}: other machines could reach the workbench, which reads and writes files and starts training. Pass --allow-remote as well if that is intended, or use --host 127.0.0.1.`,
    };
  }
  return {
    ok: true,
    warning: `Warning: the workbench is bound to ${what} and reachable from other machines on the network. Anyone with the URL (it carries the token) can act as you; traffic is plain HTTP, not encrypted.`,
  };
}
