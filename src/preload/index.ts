/**
 * The preload exposes WorkbenchApi over IPC and nothing else: one invoke channel and one
 * event channel, both allow-listed. The renderer never sees ipcRenderer itself.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, IPC_PICK_FOLDER_CHANNEL } from '../shared/ipc-channels';

type Listener = (envelope: { event: string; payload: unknown }) => void;

const bridge = {
  invoke: (method: string, input: unknown): Promise<unknown> => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, method, input),
  onEvent: (listener: Listener): (() => void) => {
    const wrapped = (_e: unknown, envelope: { event: string; payload: unknown }) => listener(envelope);
    ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped);
    return () => ipcRenderer.off(IPC_EVENT_CHANNEL, wrapped);
  },
  /** Native folder picker; resolves to the chosen absolute path or null when cancelled. */
  pickFolder: (title: string): Promise<string | null> =>
    ipcRenderer.invoke(IPC_PICK_FOLDER_CHANNEL, String(title)) as Promise<string | null>,
};

contextBridge.exposeInMainWorld('workbenchBridge', bridge);
