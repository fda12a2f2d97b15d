/**
 * The renderer's one door to the engine. Inside Electron it uses the preload bridge; in a
 * browser it uses HTTP POST for calls and a WebSocket for events (the session cookie set by
 * the server carries the token). Components never touch a transport directly.
 */
import {
  apiEvents,
  type EventName,
  type EventPayload,
  isEventName,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  RpcResponse,
} from '../../shared/api';

interface Bridge {
  invoke(method: string, input: unknown): Promise<unknown>;
  onEvent(listener: (envelope: { event: string; payload: unknown }) => void): () => void;
  /** Electron only (older preloads may lack it). */
  pickFolder?(title: string): Promise<string | null>;
}

declare global {
  interface Window {
    workbenchBridge?: Bridge;
  }
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

type AnyListener = (event: EventName, payload: unknown) => void;
const listeners = new Set<AnyListener>();
let socket: WebSocket | null = null;
let bridgeSubscribed = false;

export function transportName(): 'electron' | 'http' {
  return window.workbenchBridge ? 'electron' : 'http';
}

/** (connected, isReconnect): the event stream opened (again) or dropped. */
type ConnectionListener = (connected: boolean, reconnect: boolean) => void;
const connectionListeners = new Set<ConnectionListener>();
let everOpened = false;
let isConnected = false;

function setConnected(connected: boolean): void {
  if (connected === isConnected) return;
  isConnected = connected;
  const reconnect = connected && everOpened;
  if (connected) everOpened = true;
  for (const l of connectionListeners) l(connected, reconnect);
}

/**
 * Follow the event stream's connection. Events sent while it was down are lost, so a
 * reconnect is the signal to re-read state from disk (the engine's files are the truth).
 */
export function onConnection(listener: ConnectionListener): () => void {
  connectionListeners.add(listener);
  return () => connectionListeners.delete(listener);
}

function dispatchEnvelope(raw: { event: string; payload: unknown }): void {
  if (!isEventName(raw.event)) return;
  // Events enter the renderer here: validate them against the contract.
  const parsed = apiEvents[raw.event].safeParse(raw.payload);
  if (!parsed.success) {
    console.warn(`dropped a malformed '${raw.event}' event: ${parsed.error.message}`);
    return;
  }
  for (const l of listeners) l(raw.event, parsed.data);
}

function ensureEventStream(): void {
  const bridge = window.workbenchBridge;
  if (bridge) {
    if (!bridgeSubscribed) {
      bridge.onEvent(dispatchEnvelope);
      bridgeSubscribed = true;
    }
    return;
  }
  if (socket && socket.readyState <= WebSocket.OPEN) return;
  const url = new URL('ws', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  socket = new WebSocket(url.href);
  socket.onopen = () => setConnected(true);
  socket.onmessage = (m) => {
    try {
      dispatchEnvelope(JSON.parse(String(m.data)) as { event: string; payload: unknown });
    } catch {
      // ignore malformed frames
    }
  };
  socket.onclose = () => {
    setConnected(false);
    socket = null;
    if (listeners.size > 0) setTimeout(ensureEventStream, 1000);
  };
}

export async function call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>> {
  const bridge = window.workbenchBridge;
  let raw: unknown;
  if (bridge) raw = await bridge.invoke(method, input);
  else {
    const res = await fetch(`api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input ?? {}),
      credentials: 'same-origin',
    });
    if (res.status === 401)
      throw new ApiError(
        'UNAUTHORIZED',
        'The session token is missing or wrong: open the URL printed by `ptycho-study serve`.',
        {},
      );
    raw = await res.json();
  }
  const parsed = RpcResponse.parse(raw);
  if (!parsed.ok) throw new ApiError(parsed.error.code, parsed.error.message, parsed.error.details);
  return parsed.result as MethodOutput<M>;
}

export function onEvent<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
  const l: AnyListener = (name, payload) => {
    if (name === event) handler(payload as EventPayload<E>);
  };
  listeners.add(l);
  ensureEventStream();
  return () => listeners.delete(l);
}

/** Native folder pickers exist only inside the Electron window. */
export function canPickFolders(): boolean {
  return typeof window.workbenchBridge?.pickFolder === 'function';
}

export async function pickFolder(title: string): Promise<string | null> {
  const pick = window.workbenchBridge?.pickFolder;
  if (!pick) return null;
  const r = await pick(title);
  return typeof r === 'string' && r.length > 0 ? r : null;
}
