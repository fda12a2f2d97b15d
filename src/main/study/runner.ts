/**
 * The seam between the study engine and the PtychoPINN trainer. The engine resolves a
 * job's config, opens its log and calls a runner once; the trainer (src/main/trainer)
 * implements the runner and each entry point passes it in WorkbenchServiceOptions. There
 * is deliberately no stub: without a runner a real run fails each job with RUNNER_MISSING.
 */
import type { ResolvedJobConfig } from '../../shared/config';
import { StudyError } from '../../shared/errors';
import type { TrainEvent } from '../../shared/events';
import type { TrainingJob } from './jobs';

export interface RunnerContext {
  /** Aborted when the user cancels the job; the runner checkpoints and returns `cancelled`. */
  signal: AbortSignal;
  /** Live events (the runner also appends them to the job's events.jsonl). */
  onEvent(e: TrainEvent): void;
  /** Continue from the job's last checkpoint instead of starting over. */
  resume?: boolean;
  /** The job trains in another process with this pid (recorded so a later run can tell if it lives). */
  onWorkerStarted?(pid: number): void;
  /** Names this attempt of the job (its curve goes to `runs/<attemptId>/events.jsonl`): the study run's id. */
  attemptId?: string;
}

export interface RunnerResult {
  status: 'done' | 'failed' | 'cancelled' | 'diverged';
  final_loss: number | null;
  epochs_completed: number;
  checkpoint_path: string | null;
  model_path?: string | null;
  model_sha256?: string;
  model_bytes?: number;
  error?: string;
  [k: string]: unknown;
}

export type TrainingRunner = ((
  config: ResolvedJobConfig,
  job: TrainingJob,
  logPath: string,
  ctx: RunnerContext,
) => Promise<RunnerResult>) & {
  /** Get ready for a job soon to come (e.g. start a worker while the run is still being planned). */
  prewarm?(): void;
};

export function runnerMissingError(): StudyError {
  return new StudyError('RUNNER_MISSING', 'no PtychoPINN training runner is registered, so nothing can be trained', {
    hint: 'use --dry-run to plan the jobs, or run a build that includes the trainer (src/main/trainer)',
  });
}
