/**
 * The study operations the UI needs, as one interface over WorkbenchApi (api-client's
 * `call` / `onEvent`). The controller programs against this interface; engine-api.ts is
 * its one implementation.
 */
import type { PresetName } from '../../shared/presets';
import type { TrainEvent } from '../../shared/events';
import type { JobFreshness } from '../../shared/fingerprint';
import type { SkipSummary, TrainingManifest } from '../../shared/manifest';
import type { EventPayload, WorkbenchInfo } from '../../shared/api';
import type { GetComparisonOutput, GetJobEvaluationOutput } from '../../shared/eval-api';
import type { ClassicalProgressEvent, GetClassicalOutput, ReconstructClassicalInput } from '../../shared/classical-api';
import type { ListQueueOutput } from '../../shared/queue-api';
import type {
  JobAttempt,
  JobStateEvent,
  ListJobPreviewsOutput,
  ReadJobPreviewOutput,
  RunStateEvent,
  TrainEventBatch,
} from '../../shared/study-api';
import type { JobCell } from './model';
import type { Knobs, Roots, SlurmOptions } from './stores/settings';

/** Where and how a Run goes: this machine's queue or one Slurm job array; `force` retrains up-to-date jobs. */
export interface RunOptions {
  force?: boolean;
  runOn?: 'local' | 'slurm';
  slurm?: SlurmOptions;
}

/** A classical reconstruction as the Classical row asks for it (the roots come from the open study). */
export type ClassicalRunInput = Omit<ReconstructClassicalInput, 'phaseCRoot' | 'phaseDRoot' | 'artifactRoot'>;

export interface Engine {
  defaultRoots(): Promise<Roots | null>;
  /** The matrix for these roots; `roots` comes back resolved (absolute). */
  listJobs(roots: Roots): Promise<{ roots: Roots; doses: number[]; jobs: JobCell[]; manifestPath: string }>;
  readManifest(roots: Roots): Promise<{
    manifest: TrainingManifest | null;
    path: string | null;
    skipSummary: SkipSummary | null;
    raw: string | null;
  }>;
  runJobs(
    roots: Roots,
    ids: string[],
    knobs: Knobs,
    dryRun: boolean,
    options?: RunOptions,
  ): Promise<{ runId: string; jobIds?: string[]; upToDate?: string[]; slurmJobId?: string | null }>;
  /** Per job: whether a run with these knobs would train it, and why. */
  planJobs?(roots: Roots, ids: string[], knobs: Knobs, force: boolean): Promise<JobFreshness[]>;
  cancelJobs(ids: string[] | 'all'): Promise<string[]>;
  readJobEvents(roots: Roots, id: string): Promise<{ events: TrainEvent[]; skippedLines: number }>;
  readJobLog(roots: Roots, id: string): Promise<{ text: string; path: string | null; truncated: boolean }>;
  /** Null when this engine build has no demo-study generator. */
  /** Simulate a preset's study (default demo) into the workspace. */
  createDemoStudy:
    | ((onProgress?: (message: string, fraction: number | null) => void, preset?: PresetName) => Promise<Roots>)
    | null;
  /** Continue stopped jobs from their checkpoints (their curves continue). */
  resumeJobs(
    roots: Roots,
    ids: string[],
  ): Promise<{ runIds: string[]; jobIds: string[]; notResumed: { jobId: string; reason: string }[] }>;
  /** Events appended since `fromByte` (a previous answer's `nextByte`). */
  readJobEventsFrom(roots: Roots, id: string, fromByte: number): Promise<{ events: TrainEvent[]; nextByte: number }>;
  listJobAttempts(roots: Roots, id: string): Promise<JobAttempt[]>;
  readAttemptEvents(roots: Roots, id: string, attemptId: string): Promise<TrainEvent[]>;
  listJobPreviews(roots: Roots, id: string): Promise<ListJobPreviewsOutput>;
  /** One preview (the latest when `epoch` is absent). */
  readJobPreview(roots: Roots, id: string, epoch?: number): Promise<ReadJobPreviewOutput>;
  getInfo(): Promise<WorkbenchInfo>;
  getComparison(artifactRoot: string): Promise<GetComparisonOutput>;
  /** Where "Open report" goes: the desktop app opens the file; a browser page asks the local server for it. */
  reportHref(artifactRoot: string, reportHtml: string): string;
  evaluateStudy(artifactRoot: string): Promise<unknown>;
  buildReport(artifactRoot: string): Promise<unknown>;
  getJobEvaluation(artifactRoot: string, jobId: string): Promise<GetJobEvaluationOutput>;
  /** A report image as a `data:` URL. */
  readReportImage(artifactRoot: string, name: string): Promise<string>;
  onEvalProgress(handler: (p: EventPayload<'evalProgress'>) => void): () => void;
  onJobState(handler: (ev: JobStateEvent) => void): () => void;
  onTrainEvents(handler: (batch: TrainEventBatch) => void): () => void;
  onRunState(handler: (ev: RunStateEvent) => void): () => void;
  /** The classical arm: queue a reconstruction (it waits in the one run queue with training). */
  reconstructClassical(roots: Roots, input: ClassicalRunInput): Promise<{ runId: string; jobIds: string[] }>;
  /** Cancel every classical run of this artifact root (or only `runId`): a queued one leaves the queue. */
  cancelClassical(artifactRoot: string, runId?: string): Promise<boolean>;
  getClassical(artifactRoot: string): Promise<GetClassicalOutput>;
  /** The one run queue's runs of this artifact root (training and classical), in the order they run. */
  listQueue(artifactRoot: string): Promise<ListQueueOutput>;
  onClassicalProgress(handler: (e: ClassicalProgressEvent) => void): () => void;
}
