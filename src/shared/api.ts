/**
 * The WorkbenchApi contract: every request and every event, as zod schemas.
 * The Electron preload, the HTTP/WebSocket server and the CLI all speak this contract, and
 * the main side validates each incoming message against it. Add a method here first.
 */
import { z } from 'zod';
import { studyApiEvents, studyApiMethods } from './study-api';
import { evalApiEvents, evalApiMethods } from './eval-api';
import { dataApiEvents, dataApiMethods } from './data-api';
import { classicalApiEvents, classicalApiMethods } from './classical-api';
import { queueApiMethods } from './queue-api';

export const ExecutionProviderName = z.enum(['cpu', 'webgpu', 'cuda', 'dml', 'coreml']);
export type ExecutionProviderName = z.infer<typeof ExecutionProviderName>;

export const ProviderProbe = z.object({
  name: ExecutionProviderName,
  available: z.boolean(),
  /** Why it is unavailable, or what backs it (e.g. the adapter) when it works. */
  detail: z.string(),
  /**
   * It works but on a CPU-type adapter (software Vulkan: Mesa lavapipe/llvmpipe,
   * SwiftShader): slower than the CPU provider, so `auto` never chooses it.
   */
  software: z.boolean().optional(),
});
export type ProviderProbe = z.infer<typeof ProviderProbe>;

export const WorkbenchInfo = z.object({
  appVersion: z.string(),
  onnxruntimeVersion: z.string(),
  nodeVersion: z.string(),
  platform: z.string(),
  arch: z.string(),
  /** Which front end is serving this session. */
  transport: z.enum(['electron', 'http', 'cli']),
  workspace: z.string().nullable(),
  providers: z.array(ProviderProbe),
});
export type WorkbenchInfo = z.infer<typeof WorkbenchInfo>;

const Empty = z.object({}).strict();

/**
 * Method table: name → input and output schemas. Transports are generic over this table,
 * so adding a method needs no transport code.
 */
export const apiMethods = {
  getInfo: { input: Empty, output: WorkbenchInfo },
  ...studyApiMethods,
  ...evalApiMethods,
  ...dataApiMethods,
  ...classicalApiMethods,
  ...queueApiMethods,
} as const;

export type ApiMethods = typeof apiMethods;
export type MethodName = keyof ApiMethods;
export type MethodInput<M extends MethodName> = z.input<ApiMethods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.infer<ApiMethods[M]['output']>;

/** Events pushed from the main side to every connected front end. */
export const apiEvents = {
  log: z.object({ level: z.enum(['info', 'warn', 'error']), message: z.string(), time: z.string() }),
  ...studyApiEvents,
  ...evalApiEvents,
  ...dataApiEvents,
  ...classicalApiEvents,
} as const;

export type ApiEvents = typeof apiEvents;
export type EventName = keyof ApiEvents;
export type EventPayload<E extends EventName> = z.infer<ApiEvents[E]>;

/** A push message on the wire (WebSocket or IPC). */
export const EventEnvelope = z.object({ event: z.string(), payload: z.unknown() });
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** The typed surface every front end programs against. */
export type WorkbenchApi = {
  [M in MethodName]: (input: MethodInput<M>) => Promise<MethodOutput<M>>;
};

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(apiMethods, name);
}

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(apiEvents, name);
}

/** Response envelope of the HTTP transport and IPC: success or a serialised StudyError. */
export const RpcResponse = z.union([
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({
    ok: z.literal(false),
    error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()) }),
  }),
]);
export type RpcResponse = z.infer<typeof RpcResponse>;

export { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from './ipc-channels';
