/**
 * The desktop window's security decisions as plain functions (no `electron` import), so
 * they are unit-tested under Node; main.ts and ipc.ts only wire them to Electron.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where the window's page comes from. */
export type RendererSource = { kind: 'file'; path: string } | { kind: 'url'; url: string };

/**
 * The built page, or the dev server named by ELECTRON_RENDERER_URL — which is honoured only
 * in an unpackaged (development) run and only on this machine: an installed app must never
 * load code from whatever an environment variable says.
 */
export function rendererSource(opts: {
  isPackaged: boolean;
  env: Record<string, string | undefined>;
  builtIndex: string;
}): RendererSource {
  const dev = opts.env.ELECTRON_RENDERER_URL;
  if (!opts.isPackaged && dev && isLoopbackHttpUrl(dev)) return { kind: 'url', url: dev };
  return { kind: 'file', path: opts.builtIndex };
}

function isLoopbackHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return (u.protocol === 'http:' || u.protocol === 'https:') && ['localhost', '127.0.0.1', '::1'].includes(host);
  } catch {
    return false;
  }
}

/**
 * Web permissions the page may have. The workbench needs none but writing plain text to
 * the clipboard (the "copy CLI command" button); camera, microphone, geolocation,
 * notifications, HID/serial/USB, clipboard reading and the rest are denied.
 */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function permissionAllowed(permission: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission);
}

/** The page's policy: scripts and connections only from the app itself, no plugins, no framing. */
export const WINDOW_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/** What ipc.ts knows about the caller of an IPC handler. */
export interface IpcSender {
  /** webContents id of the sender and of our window. */
  senderId: number;
  windowId: number | null;
  /** The sending frame (`event.senderFrame`); null when it is gone. */
  frame: { url: string; isMainFrame: boolean } | null;
}

/**
 * Only our window's top frame, showing our own page, may call in: not a subframe, not the
 * page after it navigated elsewhere, not another webContents.
 */
export function trustedSender(sender: IpcSender, source: RendererSource): boolean {
  if (sender.windowId === null || sender.senderId !== sender.windowId) return false;
  if (!sender.frame?.isMainFrame) return false;
  let url: URL;
  try {
    url = new URL(sender.frame.url);
  } catch {
    return false;
  }
  if (source.kind === 'url') return url.origin === new URL(source.url).origin;
  return url.protocol === 'file:' && url.pathname === pathToFileURL(source.path).pathname;
}

/**
 * What a link the page opens in a new window becomes: web pages open in the system browser;
 * of local files only a study report (`…/report/report.html`) opens, with the system's
 * default app; everything else is refused (null).
 */
export function externalOpen(url: string): { kind: 'url'; url: string } | { kind: 'file'; path: string } | null {
  if (/^https?:\/\//i.test(url)) return { kind: 'url', url };
  if (!url.startsWith('file://')) return null;
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch {
    return null;
  }
  return /[\\/]report[\\/]report\.html$/.test(path) ? { kind: 'file', path } : null;
}
