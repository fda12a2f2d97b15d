/**
 * Token auth for browser mode: a random URL-safe token per start; the first request with
 * `?token=` gets an HttpOnly SameSite=Strict cookie; later requests need that cookie or a
 * bearer header. Tokens are compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const COOKIE_NAME = 'ptycho_study_token';

export function newToken(): string {
  return randomBytes(32).toString('base64url'); // 256 bits
}

export function tokensEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    // still spend the comparison so timing does not reveal the length
    timingSafeEqual(bb, bb);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    out[part.slice(0, i).trim()] = decodeCookieValue(part.slice(i + 1).trim());
  }
  return out;
}

/** A value with a malformed escape (`x=%`) is kept as sent; it must never throw. */
function decodeCookieValue(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export type AuthResult = { ok: false } | { ok: true; via: 'query' | 'cookie' | 'bearer' };

export function authenticate(req: IncomingMessage, token: string): AuthResult {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams.get('token');
  if (q !== null && tokensEqual(q, token)) return { ok: true, via: 'query' };
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && tokensEqual(auth.slice(7).trim(), token)) return { ok: true, via: 'bearer' };
  const cookie = parseCookies(req.headers.cookie)[COOKIE_NAME];
  if (cookie !== undefined && tokensEqual(cookie, token)) return { ok: true, via: 'cookie' };
  return { ok: false };
}

export function sessionCookie(token: string): string {
  return `${COOKIE_NAME}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}
