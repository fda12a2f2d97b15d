/** IPC channel names; the preload allows exactly these. Dependency-free so the sandboxed preload can import it. */
export const IPC_INVOKE_CHANNEL = 'workbench:invoke';
export const IPC_EVENT_CHANNEL = 'workbench:event';
/** Electron only: the native folder picker for the study roots (the renderer cannot open dialogs). */
export const IPC_PICK_FOLDER_CHANNEL = 'workbench:pick-folder';
