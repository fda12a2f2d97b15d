/**
 * WorkbenchService: the one implementation of WorkbenchApi. Electron IPC, the HTTP/WebSocket
 * server and the CLI are thin adapters over it; no study logic lives in an adapter.
 */
import { EventEmitter } from 'node:events';
import {
  type EventName,
  type EventPayload,
  type MethodInput,
  type MethodName,
  type MethodOutput,
  type ProviderProbe,
  apiMethods,
  type WorkbenchApi,
  type WorkbenchInfo,
} from '../../shared/api';
import { StudyError } from '../../shared/errors';
import { probeProviders } from './providers';
import { appVersion, onnxruntimeVersion } from './version';

export interface WorkbenchServiceOptions {
  transport: WorkbenchInfo['transport'];
  workspace?: string | null;
  /** Injected for tests; defaults to the child-process probe. */
  probe?: () => Promise<ProviderProbe[]>;
}

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export class WorkbenchService implements WorkbenchApi {
  private readonly events = new EventEmitter();
  private providersPromise: Promise<ProviderProbe[]> | undefined;

  constructor(private readonly options: WorkbenchServiceOptions) {
    this.events.setMaxListeners(100);
  }

  get workspace(): string | null {
    return this.options.workspace ?? null;
  }

  /** Probe once per service lifetime; a probe takes a second or two. */
  providers(): Promise<ProviderProbe[]> {
    this.providersPromise ??= (this.options.probe ?? probeProviders)();
    return this.providersPromise;
  }

  async getInfo(_input: MethodInput<'getInfo'> = {}): Promise<WorkbenchInfo> {
    return {
      appVersion: appVersion(),
      onnxruntimeVersion: onnxruntimeVersion(),
      nodeVersion: process.versions.node,
      platform: process.platform,
      arch: process.arch,
      transport: this.options.transport,
      workspace: this.workspace,
      providers: await this.providers(),
    };
  }

  /** Validate an untrusted request against the contract, call the method, validate the result. */
  async dispatch(method: string, rawInput: unknown): Promise<unknown> {
    if (!Object.hasOwn(apiMethods, method)) {
      throw new StudyError('BAD_INPUT', `unknown method '${method}'`, {
        key: 'method',
        found: method,
        expected: Object.keys(apiMethods),
      });
    }
    const name = method as MethodName;
    const spec = apiMethods[name];
    const parsed = spec.input.safeParse(rawInput ?? {});
    if (!parsed.success) {
      throw new StudyError(
        'BAD_INPUT',
        `invalid input for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
        {
          key: name,
        },
      );
    }
    const fn = this[name] as (input: unknown) => Promise<MethodOutput<typeof name>>;
    const result = await fn.call(this, parsed.data);
    return spec.output.parse(result);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.events.emit('event', event, payload);
  }

  /** Subscribe to every event; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }
}
