/**
 * The study engine's runner: jobs train in a worker process through a TrainerHost, one
 * worker for the jobs of a run in turn (host.ts). The entry points pass it to
 * WorkbenchService (the CLI and the server fork Node workers; the Electron app passes its
 * utilityProcess launcher).
 */
import type { ResolvedJobConfig } from '../../shared/config';
import type { TrainingJob } from '../study/jobs';
import type { RunnerContext, RunnerResult, TrainingRunner } from '../study/runner';
import { forkLauncher } from './fork-launcher';
import { createTrainerHost, type WorkerLauncher } from './host';
import { JobWire, type TrainerExtras } from './messages';

/** The job as plain data for the worker (zod keeps exactly the JobWire fields). */
export function jobWire(job: TrainingJob): JobWire {
  return JobWire.parse(job);
}

export function createWorkerRunner(
  launcher: WorkerLauncher = forkLauncher(),
  extras: TrainerExtras = {},
): TrainingRunner {
  const host = createTrainerHost(launcher);
  const run = (
    config: ResolvedJobConfig,
    job: TrainingJob,
    logPath: string,
    ctx: RunnerContext,
  ): Promise<RunnerResult> => host.run(config, jobWire(job), logPath, { ...ctx, extras });
  return Object.assign(run, { prewarm: () => host.prewarm() });
}
