/** IPC channel names; the preload allows exactly these. Dependency-free so the sandboxed preload can import it. */
export const IPC_INVOKE_CHANNEL = 'workbench:invoke';
export const IPC_EVENT_CHANNEL = 'workbench:event';
