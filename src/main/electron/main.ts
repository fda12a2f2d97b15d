/**
 * Electron entry: one secure window over the same WorkbenchService the server and CLI use.
 * Only this folder may import 'electron'.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, Menu, session, shell } from 'electron';
import { WorkbenchService } from '../service/workbench-service';
import { createWorkerRunner } from '../trainer/runner';
import { utilityLauncher } from './utility-launcher';
import { wireIpc } from './ipc';
import { externalOpen, permissionAllowed, rendererSource, WINDOW_CSP } from './policy';

const here = dirname(fileURLToPath(import.meta.url));
let win: BrowserWindow | null = null;

// The built page, or (unpackaged runs only) the dev server on this machine.
const source = rendererSource({
  isPackaged: app.isPackaged,
  env: process.env,
  builtIndex: join(here, '../renderer/index.html'),
});

function createWindow(): BrowserWindow {
  const w = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 1024,
    minHeight: 700,
    title: 'PtychoPINN study workbench',
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  w.once('ready-to-show', () => w.show());
  // No remote content, no new windows: links open in the system browser.
  w.webContents.setWindowOpenHandler(({ url }) => {
    const open = externalOpen(url);
    if (open?.kind === 'url') void shell.openExternal(open.url);
    else if (open?.kind === 'file') void shell.openPath(open.path);
    return { action: 'deny' };
  });
  w.webContents.on('will-navigate', (e) => e.preventDefault());
  if (source.kind === 'url') void w.loadURL(source.url);
  else void w.loadFile(source.path);
  return w;
}

function buildMenu(workspace: string): void {
  const template: Electron.MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Show workspace folder', click: () => void shell.openPath(workspace) },
        { type: 'separator' },
        // Quitting goes through before-quit, which cancels running jobs and waits for their checkpoints.
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'PtychoPINN on GitHub', click: () => void shell.openExternal('https://github.com/hoidn/PtychoPINN') },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [WINDOW_CSP] } });
  });
  // Deny every web permission the workbench does not use (camera, geolocation, …).
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permissionAllowed(permission)),
  );
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => permissionAllowed(permission));
  const workspace = process.env.PTYCHO_STUDY_WORKSPACE ?? join(homedir(), 'ptycho-study');
  // Training runs in Electron utility processes, never on the main thread.
  const service = new WorkbenchService({
    transport: 'electron',
    workspace,
    runner: createWorkerRunner(utilityLauncher()),
  });
  buildMenu(workspace);
  wireIpc(service, () => win, source);
  cancelJobsOnQuit(service);
  win = createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createWindow();
  });
});

/**
 * Quitting while jobs train: cancel them and wait (bounded) until each has written its
 * checkpoint and final state, so the manifest never keeps a job "running" after the app is
 * gone and a later run can resume.
 */
function cancelJobsOnQuit(service: WorkbenchService): void {
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    const limit = new Promise<void>((resolve) => setTimeout(resolve, 20_000));
    void Promise.race([service.close().catch(() => undefined), limit]).finally(() => app.quit());
  });
}

// No <webview> anywhere: nothing may embed remote content with its own preferences.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
