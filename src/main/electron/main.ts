/**
 * Electron entry: one secure window over the same WorkbenchService the server and CLI use.
 * Only this folder may import 'electron'.
 */
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, Menu, session, shell } from 'electron';
import { WorkbenchService } from '../service/workbench-service';
import { registerTrainingRunner } from '../trainer/runner';
import { utilityLauncher } from './utility-launcher';
import { wireIpc } from './ipc';

const here = dirname(fileURLToPath(import.meta.url));
let win: BrowserWindow | null = null;

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

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
    if (/^https?:/.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  w.webContents.on('will-navigate', (e) => e.preventDefault());
  if (process.env.ELECTRON_RENDERER_URL) void w.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void w.loadFile(join(here, '../renderer/index.html'));
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
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  const workspace = process.env.PTYCHO_STUDY_WORKSPACE ?? join(homedir(), 'ptycho-study');
  // Training runs in Electron utility processes, never on the main thread.
  registerTrainingRunner(utilityLauncher());
  const service = new WorkbenchService({ transport: 'electron', workspace });
  buildMenu(workspace);
  wireIpc(service, () => win);
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

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
