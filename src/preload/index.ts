/**
 * The preload exposes WorkbenchApi over IPC and nothing else: one invoke channel and one
 * event channel, both allow-listed. The renderer never sees ipcRenderer itself.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../shared/ipc-channels';

type Listener = (envelope: { event: string; payload: unknown }) => void;

const bridge = {
  invoke: (method: string, input: unknown): Promise<unknown> => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, input),
  onEvent: (listener: Listener): (() => void) => {
    const wrapped = (_e: unknown, envelope: { event: string; payload: unknown }) => listener(envelope);
    ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped);
    return () => ipcRenderer.off(IPC_EVENT_CHANNEL, wrapped);
  },
};

contextBridge.exposeInMainWorld('workbenchBridge', bridge);
