/**
 * Fault 10: Electron hardening. Electron's binary is not installed on the build machines,
 * so the window's security decisions live in src/main/electron/policy.ts as plain
 * functions tested here; main.ts and ipc.ts only wire them (typechecked, and checked
 * below to use them). The fuses are checked end to end short of a real binary: the
 * electron-builder config is turned into a fuse config by electron-builder's own code
 * and flipped by @electron/fuses into a stand-in binary carrying Electron's fuse wire.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  externalOpen,
  type IpcSender,
  permissionAllowed,
  type RendererSource,
  rendererSource,
  trustedSender,
  WINDOW_CSP,
} from '../../src/main/electron/policy';
import { repoRoot } from '../helpers/cli';

const require = createRequire(import.meta.url);
const builtIndex = join(repoRoot, 'out', 'renderer', 'index.html');
const src = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

describe('the window loads only the app itself', () => {
  it('a packaged app ignores ELECTRON_RENDERER_URL', () => {
    for (const url of ['http://localhost:5173', 'https://evil.example/', 'file:///tmp/x.html']) {
      expect(rendererSource({ isPackaged: true, env: { ELECTRON_RENDERER_URL: url }, builtIndex })).toEqual({
        kind: 'file',
        path: builtIndex,
      });
    }
  });

  it('a development run honours it only for a dev server on this machine', () => {
    const dev = (url: string) => rendererSource({ isPackaged: false, env: { ELECTRON_RENDERER_URL: url }, builtIndex });
    expect(dev('http://localhost:5173/')).toEqual({ kind: 'url', url: 'http://localhost:5173/' });
    expect(dev('http://127.0.0.1:5173')).toEqual({ kind: 'url', url: 'http://127.0.0.1:5173' });
    for (const bad of ['https://evil.example/', 'http://192.168.1.9:5173', 'file:///tmp/x.html', 'javascript:1', 'x']) {
      expect(dev(bad), bad).toEqual({ kind: 'file', path: builtIndex });
    }
    expect(rendererSource({ isPackaged: false, env: {}, builtIndex })).toEqual({ kind: 'file', path: builtIndex });
  });
});

describe('web permissions are denied by default', () => {
  it('denies devices, location, notifications, clipboard reading and anything unknown', () => {
    for (const p of [
      'media',
      'geolocation',
      'notifications',
      'midi',
      'midiSysex',
      'pointerLock',
      'fullscreen',
      'openExternal',
      'clipboard-read',
      'hid',
      'serial',
      'usb',
      'display-capture',
      'idle-detection',
      'unknown',
      'some-future-permission',
    ]) {
      expect(permissionAllowed(p), p).toBe(false);
    }
  });

  it('allows writing plain text to the clipboard (the copy-command button)', () => {
    expect(permissionAllowed('clipboard-sanitized-write')).toBe(true);
  });
});

describe('the page may connect only to its own origin', () => {
  const connectSrc = (csp: string) =>
    csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith('connect-src'));

  it("the Electron window's CSP header and the page's own CSP allow connect-src 'self' only", () => {
    expect(connectSrc(WINDOW_CSP)).toBe("connect-src 'self'");
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(src('src/renderer/index.html'));
    expect(meta).not.toBeNull();
    expect(connectSrc(meta?.[1] ?? '')).toBe("connect-src 'self'");
  });
});

describe('IPC answers only our own page in our own window', () => {
  const file: RendererSource = { kind: 'file', path: builtIndex };
  const ours = pathToFileURL(builtIndex).href;
  const sender = (over: Partial<IpcSender> & { url?: string; isMainFrame?: boolean } = {}): IpcSender => ({
    senderId: over.senderId ?? 7,
    windowId: over.windowId === undefined ? 7 : over.windowId,
    frame: over.frame === null ? null : { url: over.url ?? ours, isMainFrame: over.isMainFrame ?? true },
  });

  it('accepts the top frame of our window showing the built page', () => {
    expect(trustedSender(sender(), file)).toBe(true);
    expect(trustedSender(sender({ url: `${ours}#/results` }), file)).toBe(true);
  });

  it('refuses a subframe, another webContents, a navigated-away page, a gone frame, no window', () => {
    expect(trustedSender(sender({ isMainFrame: false }), file)).toBe(false);
    expect(trustedSender(sender({ senderId: 8 }), file)).toBe(false);
    expect(trustedSender(sender({ url: 'https://evil.example/' }), file)).toBe(false);
    expect(trustedSender(sender({ url: 'file:///tmp/other.html' }), file)).toBe(false);
    expect(trustedSender(sender({ frame: null }), file)).toBe(false);
    expect(trustedSender(sender({ windowId: null }), file)).toBe(false);
    expect(trustedSender(sender({ url: 'not a url' }), file)).toBe(false);
  });

  it('in a development run, accepts the dev server origin only', () => {
    const dev: RendererSource = { kind: 'url', url: 'http://localhost:5173/' };
    expect(trustedSender(sender({ url: 'http://localhost:5173/index.html' }), dev)).toBe(true);
    expect(trustedSender(sender({ url: 'http://localhost:5174/' }), dev)).toBe(false);
    expect(trustedSender(sender({ url: ours }), dev)).toBe(false);
  });
});

describe('main.ts and ipc.ts use the policy (Electron itself cannot run here)', () => {
  it('the window source, CSP and permission handlers come from policy.ts', () => {
    const main = src('src/main/electron/main.ts');
    expect(main).not.toMatch(/loadURL\(process\.env/);
    expect(main).toContain('rendererSource({');
    expect(main).toContain('isPackaged: app.isPackaged');
    expect(main).toMatch(/setPermissionRequestHandler\([^)]*\) =>\s*callback\(permissionAllowed\(permission\)\)/);
    expect(main).toContain('setPermissionCheckHandler');
    expect(main).toContain('[WINDOW_CSP]');
  });

  it('both IPC handlers check the sending frame', () => {
    const ipc = src('src/main/electron/ipc.ts');
    expect(ipc).toContain('event.senderFrame');
    expect(ipc.match(/!fromOurPage\(event, win, source\)/g)).toHaveLength(2);
  });
});

describe('Electron fuses in the packaged app', () => {
  const yaml = require('js-yaml') as { load(text: string): unknown };
  const config = yaml.load(src('build/electron-builder.yml')) as { electronFuses: Record<string, boolean> };
  const dir = mkdtempSync(join(tmpdir(), 'ptycho-fuses-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('electron-builder accepts the fuse settings', async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration(c: unknown, l: { isEnabled: boolean; add(): void }): Promise<void>;
    };
    await expect(validateConfiguration(config, { isEnabled: false, add() {} })).resolves.toBeUndefined();
  });

  it('flipping them into a binary turns off NODE_OPTIONS and --inspect and locks the app to its checked asar', async () => {
    const { PlatformPackager } = require('app-builder-lib') as {
      PlatformPackager: { prototype: { generateFuseConfig(f: unknown): Promise<Record<string, unknown>> } };
    };
    const fuses = require('@electron/fuses') as {
      FuseV1Options: Record<string, number>;
      flipFuses(path: string, config: Record<string, unknown>): Promise<number>;
      getCurrentFuseWire(path: string): Promise<Record<number, number>>;
    };
    const fuseConfig = await PlatformPackager.prototype.generateFuseConfig.call({}, config.electronFuses);
    // A stand-in binary: Electron's sentinel, wire version 1, 8 fuses at Electron's defaults.
    const sentinel = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
    const binary = join(dir, 'electron');
    writeFileSync(
      binary,
      Buffer.concat([
        Buffer.alloc(64, 7),
        Buffer.from(sentinel),
        Buffer.from([1, 8]),
        Buffer.from('10110001'),
        Buffer.alloc(64, 7),
      ]),
    );
    await fuses.flipFuses(binary, fuseConfig);
    const wire = await fuses.getCurrentFuseWire(binary);
    const O = fuses.FuseV1Options;
    const S = { DISABLE: '0'.charCodeAt(0), ENABLE: '1'.charCodeAt(0) }; // the wire stores ASCII digits
    expect(wire[O.EnableNodeOptionsEnvironmentVariable]).toBe(S.DISABLE);
    expect(wire[O.EnableNodeCliInspectArguments]).toBe(S.DISABLE);
    expect(wire[O.OnlyLoadAppFromAsar]).toBe(S.ENABLE);
    expect(wire[O.EnableEmbeddedAsarIntegrityValidation]).toBe(S.ENABLE);
    expect(wire[O.EnableCookieEncryption]).toBe(S.ENABLE);
    // kept on, with the reason written next to it in electron-builder.yml
    expect(wire[O.RunAsNode]).toBe(S.ENABLE);
    expect(src('build/electron-builder.yml')).toMatch(/runAsNode: the execution-provider probe/);
  });
});

describe('links the page opens in a new window', () => {
  it('open web pages in the system browser and only a study report among local files', () => {
    expect(externalOpen('https://github.com/hoidn/PtychoPINN')).toEqual({
      kind: 'url',
      url: 'https://github.com/hoidn/PtychoPINN',
    });
    expect(externalOpen('file:///home/u/study/artifacts/report/report.html')).toEqual({
      kind: 'file',
      path: '/home/u/study/artifacts/report/report.html',
    });
    for (const refused of [
      'file:///etc/passwd',
      'file:///home/u/.bashrc',
      'file:///home/u/report/run.sh',
      'javascript:alert(1)',
      'ptycho://x',
      'file://%zz',
    ]) {
      expect(externalOpen(refused), refused).toBeNull();
    }
  });
});
