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
import type { StudyDesign } from '../../shared/study';
import type { TrainingRunner } from '../study/runner';
import { probeProviders } from '../nn/providers';
import { StudyService } from './study-service';
import { EvalService } from './eval-service';
import { DataService } from './data-service';
import { ClassicalService } from './classical-service';
import { RunQueue } from './run-queue';
import type { Reconstructor } from '../eval/job-eval';
import { appVersion, onnxruntimeVersion } from '../version';

export interface WorkbenchServiceOptions {
  transport: WorkbenchInfo['transport'];
  workspace?: string | null;
  /** Injected for tests; defaults to the child-process probe. */
  probe?: () => Promise<ProviderProbe[]>;
  /** The training runner (the entry point passes the worker-process trainer; tests their own); none = dry runs only. */
  runner?: TrainingRunner | null;
  /** The study design; by default the fly64 dose/overlap study. */
  design?: StudyDesign;
  /** Inference for evaluation; by default each job's own model.onnx (tests inject their own). */
  reconstructor?: Reconstructor;
}

export type EventListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

export class WorkbenchService implements WorkbenchApi {
  private readonly events = new EventEmitter();
  private providersPromise: Promise<ProviderProbe[]> | undefined;

  /** Job matrix, runs and manifests; the methods below delegate to it. */
  readonly study: StudyService;
  /** Phase G: evaluation, comparison and report. */
  readonly evaluation: EvalService;
  /** Phase C/D generation (the demo study). */
  readonly data: DataService;
  /** The classical arm: ePIE/rPIE reconstructions scored beside PtychoPINN. */
  readonly classical: ClassicalService;

  /** One queue for training and classical runs: one CPU-bound run at a time, first come first served. */
  private readonly queue = new RunQueue();

  constructor(private readonly options: WorkbenchServiceOptions) {
    this.events.setMaxListeners(100);
    const queue = this.queue;
    this.study = new StudyService({
      transport: options.transport,
      workspace: options.workspace ?? null,
      emit: (event, payload) => this.emit(event, payload),
      runner: options.runner,
      design: options.design,
      queue,
    });
    this.evaluation = new EvalService({
      emit: (event, payload) => this.emit(event, payload),
      resolveArtifactRoot: (root) => this.study.resolveRoots({ artifactRoot: root }).artifactRoot,
      confinePath: (path) => {
        this.study.resolveFolder(path);
      },
      reconstructor: options.reconstructor,
    });
    this.classical = new ClassicalService({
      emit: (event, payload) => this.emit(event, payload),
      resolveRoots: (input) => this.study.resolveRoots(input),
      design: options.design,
      queue,
    });
    this.data = new DataService({
      workspace: options.workspace ?? null,
      resolveFolder: (folder) => this.study.resolveFolder(folder),
      emit: (event, payload) => this.emit(event, payload),
    });
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

  getStudyRoots(_input: MethodInput<'getStudyRoots'> = {}): Promise<MethodOutput<'getStudyRoots'>> {
    return this.study.getStudyRoots();
  }

  listJobs(input: MethodInput<'listJobs'> = {}): Promise<MethodOutput<'listJobs'>> {
    return this.study.listJobs(input);
  }

  runJobs(input: MethodInput<'runJobs'>): Promise<MethodOutput<'runJobs'>> {
    return this.study.runJobs(apiMethods.runJobs.input.parse(input));
  }

  planJobs(input: MethodInput<'planJobs'>): Promise<MethodOutput<'planJobs'>> {
    return this.study.planJobs(apiMethods.planJobs.input.parse(input));
  }

  cancelJobs(input: MethodInput<'cancelJobs'>): Promise<MethodOutput<'cancelJobs'>> {
    return this.study.cancelJobs(input);
  }

  readManifest(input: MethodInput<'readManifest'> = {}): Promise<MethodOutput<'readManifest'>> {
    return this.study.readManifest(input);
  }

  readJobEvents(input: MethodInput<'readJobEvents'>): Promise<MethodOutput<'readJobEvents'>> {
    return this.study.readJobEvents(apiMethods.readJobEvents.input.parse(input));
  }

  readJobLog(input: MethodInput<'readJobLog'>): Promise<MethodOutput<'readJobLog'>> {
    return this.study.readJobLog(apiMethods.readJobLog.input.parse(input));
  }

  resumeJobs(input: MethodInput<'resumeJobs'>): Promise<MethodOutput<'resumeJobs'>> {
    return this.study.resumeJobs(apiMethods.resumeJobs.input.parse(input));
  }

  listJobAttempts(input: MethodInput<'listJobAttempts'>): Promise<MethodOutput<'listJobAttempts'>> {
    return this.study.listJobAttempts(input);
  }

  listJobPreviews(input: MethodInput<'listJobPreviews'>): Promise<MethodOutput<'listJobPreviews'>> {
    return this.study.listJobPreviews(input);
  }

  readJobPreview(input: MethodInput<'readJobPreview'>): Promise<MethodOutput<'readJobPreview'>> {
    return this.study.readJobPreview(input);
  }

  evaluateStudy(input: MethodInput<'evaluateStudy'> = {}): Promise<MethodOutput<'evaluateStudy'>> {
    return this.evaluation.evaluateStudy(input);
  }

  buildReport(input: MethodInput<'buildReport'> = {}): Promise<MethodOutput<'buildReport'>> {
    return this.evaluation.buildReport(input);
  }

  createDemoStudy(input: MethodInput<'createDemoStudy'> = {}): Promise<MethodOutput<'createDemoStudy'>> {
    return this.data.createDemoStudy(input);
  }

  getComparison(input: MethodInput<'getComparison'> = {}): Promise<MethodOutput<'getComparison'>> {
    return this.evaluation.getComparison(input);
  }

  getJobEvaluation(input: MethodInput<'getJobEvaluation'>): Promise<MethodOutput<'getJobEvaluation'>> {
    return this.evaluation.getJobEvaluation(input);
  }

  readReportImage(input: MethodInput<'readReportImage'>): Promise<MethodOutput<'readReportImage'>> {
    return this.evaluation.readReportImage(input);
  }

  reconstructClassical(input: MethodInput<'reconstructClassical'>): Promise<MethodOutput<'reconstructClassical'>> {
    return this.classical.reconstruct(apiMethods.reconstructClassical.input.parse(input));
  }

  async cancelClassical(input: MethodInput<'cancelClassical'> = {}): Promise<MethodOutput<'cancelClassical'>> {
    return this.classical.cancel(input);
  }

  async getClassical(input: MethodInput<'getClassical'> = {}): Promise<MethodOutput<'getClassical'>> {
    return this.classical.get(input);
  }

  /**
   * The shared run queue in order: the run computing now, then the waiting ones as they will
   * start, each with its kind and jobs (only those of `artifactRoot` when given).
   */
  async listQueue(input: MethodInput<'listQueue'> = {}): Promise<MethodOutput<'listQueue'>> {
    const root = input.artifactRoot ? this.study.resolveRoots({ artifactRoot: input.artifactRoot }).artifactRoot : null;
    const { active, waiting } = this.queue.snapshot();
    const entries = [
      ...(active ? [{ ...active, state: 'running' as const }] : []),
      ...waiting.map((w) => ({ ...w, state: 'queued' as const })),
    ];
    const runs: MethodOutput<'listQueue'>['runs'] = [];
    for (const e of entries) {
      const jobs = e.kind === 'training' ? this.study.liveRunJobs(e.id) : this.classical.liveRunJobs(e.id);
      // a run its service no longer holds has just ended: not listed
      if (!jobs || (root && jobs.artifactRoot !== root)) continue;
      runs.push({ runId: e.id, kind: e.kind, state: e.state, ...jobs });
    }
    return { runs };
  }

  /** Cancel live runs and wait until their final states are recorded (app quit, server stop). */
  async close(): Promise<void> {
    await Promise.all([this.study.close(), this.classical.close()]);
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
