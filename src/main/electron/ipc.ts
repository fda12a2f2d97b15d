/** ipcMain adapter: one allow-listed invoke channel validated by WorkbenchService.dispatch. */
import { type BrowserWindow, ipcMain } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type RpcResponse } from '../../shared/api';
import { serializeError } from '../../shared/errors';
import type { WorkbenchService } from '../service/workbench-service';

export function wireIpc(service: WorkbenchService, getWindow: () => BrowserWindow | null): () => void {
  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event, method: unknown, input: unknown): Promise<RpcResponse> => {
    const win = getWindow();
    // Only our own window may call in.
    if (!win || event.sender.id !== win.webContents.id) {
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
  const unsubscribe = service.subscribe((event, payload) => {
    getWindow()?.webContents.send(IPC_EVENT_CHANNEL, { event, payload });
  });
  return () => {
    ipcMain.removeHandler(IPC_INVOKE_CHANNEL);
    unsubscribe();
  };
}
