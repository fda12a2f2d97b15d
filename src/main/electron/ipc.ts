/** ipcMain adapter: one allow-listed invoke channel validated by WorkbenchService.dispatch. */
import { type BrowserWindow, dialog, type IpcMainInvokeEvent, ipcMain } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type RpcResponse } from '../../shared/api';
import { IPC_PICK_FOLDER_CHANNEL } from '../../shared/ipc-channels';
import { serializeError } from '../../shared/errors';
import type { WorkbenchService } from '../service/workbench-service';
import { type RendererSource, trustedSender } from './policy';

/** Our window's top frame, on our own page (see policy.ts). */
function fromOurPage(event: IpcMainInvokeEvent, win: BrowserWindow | null, source: RendererSource): boolean {
  let frame: { url: string; isMainFrame: boolean } | null = null;
  try {
    const f = event.senderFrame;
    if (f) frame = { url: f.url, isMainFrame: f.parent === null };
  } catch {
    frame = null; // the frame was destroyed while the message was in flight
  }
  return trustedSender(
    { senderId: event.sender.id, windowId: win && !win.isDestroyed() ? win.webContents.id : null, frame },
    source,
  );
}

export function wireIpc(
  service: WorkbenchService,
  getWindow: () => BrowserWindow | null,
  source: RendererSource,
): () => void {
  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, method: unknown, input: unknown): Promise<RpcResponse> => {
    const win = getWindow();
    // Only our own window's top frame, showing our page, may call in.
    if (!win || !fromOurPage(event, win, source)) {
      return { ok: false, error: { code: 'BAD_INPUT', message: 'unknown sender', details: {} } };
    }
    try {
      if (typeof method !== 'string') throw new Error('method must be a string');
      return { ok: true, result: await service.dispatch(method, input) };
    } catch (e) {
      const err = serializeError(e);
      return { ok: false, error: { ...err, details: { ...err.details } } };
    }
  });
  // The folder picker: our window only, a short string title, a directory or null back.
  ipcMain.handle(IPC_PICK_FOLDER_CHANNEL, async (event, title: unknown): Promise<string | null> => {
    const win = getWindow();
    if (!win || !fromOurPage(event, win, source)) return null;
    const r = await dialog.showOpenDialog(win, {
      title: typeof title === 'string' ? title.slice(0, 120) : 'Choose a folder',
      properties: ['openDirectory', 'createDirectory'],
    });
    return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
  });
  const unsubscribe = service.subscribe((event, payload) => {
    getWindow()?.webContents.send(IPC_EVENT_CHANNEL, { event, payload });
  });
  return () => {
    ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
    ipcMain.removeHandler(IPC_PICK_FOLDER_CHANNEL);
    unsubscribe();
  };
}
