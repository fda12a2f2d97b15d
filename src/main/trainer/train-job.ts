/**
 * One training job, start to finish, in whatever process calls it (the worker, or a test
 * in-process): load and validate the study files, group and scale, build the PtychoPINN
 * train-step graph, run the epochs with Keras's schedule and early stopping, stream events,
 * checkpoint each epoch, stop within one step on cancel, stop on a non-finite loss as
 * `diverged`, and export model.onnx when done. The stages: `prepareJob` → `resumeOrStartFresh`
 * → `trainEpoch` (train-epoch.ts) per epoch → `finishJob`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { ZodError } from 'zod';
import type { ResolvedJobConfig } from '../../shared/config';
import { isStudyError, StudyError } from '../../shared/errors';
import type { TrainEvent } from '../../shared/events';
import { loadStudyFile } from '../data/study-file';
import type { StudyFile } from '../data/study-file';
import type { SessionCache } from '../nn/session-cache';
import type { Trainer } from '../nn/trainer';
import { prepareTrainingData, type TrainingData } from '../pinn/dataset';
import { checkTrainingMemory } from '../pinn/memory-estimate';
import { buildPinnGraph } from '../pinn/model';
import { createPinnTrainer, modelSpec } from '../pinn/pinn-trainer';
import { exportModel } from '../pinn/export';
import { seedState } from '../numeric/rng';
import { referenceNll } from '../pinn/reference-nll';
import { initialEarlyStop, initialPlateau, splitTrainValidation } from '../pinn/schedule';
import { type PinnSettings, resolveSettings } from '../pinn/settings';
import type { RunnerResult } from '../study/runner';
import { checkpointPath, readCheckpoint, type TrainerState } from './checkpoint';
import { attemptEventsPath, isAttemptId, lastElapsedSeconds, newAttemptId } from './attempts';
import { beginEventsAttempt } from './events-history';
import { type JobLog, openJobLog, truncateEventsAfter } from './job-log';
import { createPhaseClock, type PhaseClock } from './phases';
import { describeSpin, type SpinDecision, spinDecision } from '../nn/spin-policy';
import { previewTruthOf } from './previews';
import type { JobWire, TrainerExtras } from './messages';
import { acquireTrainerLock, type TrainerLock } from './trainer-lock';
import {
  isCheckpointCurrent,
  type PreparedJob,
  stageFinalCheckpoint,
  type TrainingRun,
  trainEpoch,
} from './train-epoch';

export interface TrainJobContext {
  signal: AbortSignal;
  onEvent(e: TrainEvent): void;
  resume?: boolean;
  extras?: TrainerExtras;
  /** Names this attempt (`runs/<attemptId>/`); the study run's id when a run starts it, else a new one. */
  attemptId?: string;
  /** ORT sessions kept across the jobs this process trains (the worker's); none: the job's own. */
  sessions?: SessionCache;
  /** The job's phase clock, already running (the worker starts it at its own start); none: a new one. */
  clock?: PhaseClock;
}

const now = () => new Date().toISOString();

function fingerprintOf(s: PinnSettings, job: JobWire, data: TrainingData, nTrain: number): string {
  const what = {
    model: modelSpec(s, s.batchSize),
    probeGauge: s.probeGauge,
    probeScale: s.probeScale,
    nphotons: data.nphotons,
    train: job.trainDataPath,
    groups: data.groups.count,
    nTrain,
    grouping: [s.groupingRule, s.neighborCount, s.groupingSeed, s.nGroups],
    indices: createHash('sha256').update(data.groups.indices).digest('hex'),
  };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 32);
}

function freshState(s: PinnSettings, fingerprint: string): TrainerState {
  return {
    version: 1,
    epoch: 0,
    step_in_epoch: 0,
    step: 0,
    epoch_rng: seedState(s.seed, 7),
    lr: s.learningRate,
    plateau: initialPlateau(),
    early_stop: initialEarlyStop(),
    train_loss: [],
    val_loss: [],
    partial_loss_sum: 0,
    partial_samples: 0,
    stopped_early: false,
    fingerprint,
  };
}

function failed(log: JobLog | null, e: unknown, extra: Partial<RunnerResult> = {}): RunnerResult {
  const line = isStudyError(e)
    ? e.toLine()
    : e instanceof ZodError
      ? `invalid value: ${e.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ')}`
      : e instanceof Error
        ? `${e.name}: ${e.message}`
        : String(e);
  log?.emit({ type: 'status', time: now(), status: 'failed', message: line });
  return {
    status: 'failed',
    final_loss: null,
    epochs_completed: 0,
    checkpoint_path: null,
    error: line,
    ...(isStudyError(e) ? { error_code: e.code } : {}),
    ...extra,
  };
}

/**
 * Load and check the study files, group and scale, measure the loss references and build
 * the trainer. Throws on bad inputs; nothing in the job's curve has changed yet.
 */
async function prepareJob(
  config: ResolvedJobConfig,
  job: JobWire,
  ctx: TrainJobContext,
  log: JobLog,
  clock: PhaseClock,
) {
  const settings = resolveSettings(config, ctx.extras ?? {});
  // Starts the CPU idle probe (spin-policy.ts) now, so it overlaps loading the data.
  const spin = settings.threads > 1 ? spinDecision(settings.threads) : null;
  const warn = (w: string) => log.log('warn', w);
  const file: StudyFile = await loadStudyFile(job.trainDataPath, { onWarning: warn });
  if (job.testDataPath && existsSync(job.testDataPath)) await loadStudyFile(job.testDataPath, { onWarning: warn });
  clock.mark('load data');
  const data = prepareTrainingData(file, settings);
  clock.mark('group + scale');
  const groups = data.groups.count;
  const split =
    settings.validationSplit > 0
      ? splitTrainValidation(groups, settings.validationSplit)
      : { train: groups, validation: 0 };
  const trainGroups = split.train;
  checkTrainingMemory(settings, data.probe, data.intensityScale, trainGroups);
  const trainReference = referenceNll(data, file, 0, trainGroups);
  const validationReference =
    split.validation > 0 ? referenceNll(data, file, trainGroups, groups, [0, trainGroups]) : null;
  clock.mark('loss references');
  const before = ctx.sessions?.stats();
  const pinn = await createPinnTrainer(settings, data, warn, { sessions: ctx.sessions, onPhase: clock.mark });
  const after = ctx.sessions?.stats();
  const sessions =
    before && after
      ? `${after.reused - before.reused} sessions kept from an earlier job, ${after.created - before.created} created, ` +
        `${after.loaded - before.loaded} of them from optimised graphs on disk`
      : 'sessions of its own';
  const previewGroup = split.validation > 0 ? trainGroups : 0;
  const previewGraph = buildPinnGraph(modelSpec(settings, 1), data.probe, data.intensityScale, false);
  clock.mark('preview graph');
  return {
    prepared: {
      settings,
      data,
      groups,
      trainGroups,
      validationGroups: split.validation,
      trainReference,
      validationReference,
      pinn,
      fingerprint: fingerprintOf(settings, job, data, trainGroups),
      previewGroup,
      previewTruth: previewTruthOf(file, data, previewGroup),
      previewGraph,
      sessions,
      threadWait: pinn.trainer.replicaCount > 1 ? null : await threadWaitOf(pinn.trainer.provider, spin),
    } satisfies PreparedJob,
    file,
  };
}

/** How a CPU job's idle threads wait, for its log (null off the CPU or with one thread). */
async function threadWaitOf(provider: string, decision: Promise<SpinDecision> | null): Promise<string | null> {
  if (provider !== 'cpu' || !decision) return null;
  return describeSpin(await decision);
}

function logModelSummary(log: JobLog, p: PreparedJob): void {
  const s = p.settings;
  const trainer = p.pinn.trainer;
  log.log(
    'info',
    `PtychoPINN N=${s.N} gridsize=${s.gridsize} probe_big=${s.probeBig} probe_mask=${s.probeMask}: ${p.pinn.parameterCount.toLocaleString('en-US')} parameters; ` +
      `${p.groups} groups (${s.groupingRule}, K=${p.data.groups.neighborCount}, C=${p.data.C}, seed ${s.groupingSeed}), ${p.trainGroups} train / ${p.validationGroups} validation; ` +
      `nphotons ${p.data.nphotons.toPrecision(6)}, intensity scale ${p.data.intensityScale.toPrecision(6)} (${s.intensityScaleTrainable ? 'trainable' : 'fixed'}), probe gauge ${s.probeGauge}`,
  );
  log.log(
    'info',
    `execution provider ${trainer.provider} (${trainer.providerDetail}), ${s.threads} threads${s.deterministic ? ', deterministic' : ''}${p.threadWait ? `; ${p.threadWait}` : ''}`,
  );
}

/**
 * The `resume` stage: with `--resume` and a checkpoint of this very model, data and
 * grouping, restore weights and trainer state and drop the events recorded after it;
 * otherwise a fresh state.
 */
async function resumeOrStartFresh(
  p: PreparedJob,
  job: JobWire,
  ctx: TrainJobContext,
  log: JobLog,
): Promise<{ state: TrainerState; resumed: boolean }> {
  const fresh = { state: freshState(p.settings, p.fingerprint), resumed: false };
  if (!ctx.resume) return fresh;
  const file = checkpointPath(job.artifactDir);
  if (!existsSync(file)) {
    log.log('warn', `no checkpoint at ${file}; training from the start`);
    return fresh;
  }
  const checkpoint = await readCheckpoint(file);
  if (checkpoint.state.fingerprint !== p.fingerprint) {
    throw new StudyError('BAD_INPUT', 'the checkpoint was written for another model, data or grouping', {
      file,
      hint: 'train without --resume to start over',
    });
  }
  p.pinn.trainer.setState(checkpoint.weights, file);
  const state = checkpoint.state;
  const dropped = truncateEventsAfter(job.eventsPath, state.step, state.epoch);
  log.log(
    'info',
    `resuming at step ${state.step} (epoch ${state.epoch + 1}, step ${state.step_in_epoch} of it); ${dropped} later events dropped`,
  );
  return { state, resumed: true };
}

/** The `finish` stage: the final checkpoint, model.onnx and its card, and the `done` record. */
async function finishJob(run: TrainingRun, stoppedBySteps: boolean): Promise<RunnerResult> {
  const { prepared: p, trainer, log } = run;
  const s = p.settings;
  // the final state's checkpoint (the last epoch leaves it to this stage; an earlier one is
  // current when no step ran since, as after max_steps at an epoch's end): its flush to disk
  // runs while the model is exported
  const checkpoint = isCheckpointCurrent(run) ? null : await stageFinalCheckpoint(run);
  run.clock.mark('checkpoint');
  const st = run.state;
  let exported: ReturnType<typeof exportModel>;
  try {
    exported = exportModel(
      run.job.artifactDir,
      p.pinn.spec,
      p.data.probe,
      p.data.intensityScale,
      p.data.nphotons,
      trainer.parameters(),
      p.pinn.parameterCount,
      { rule: s.groupingRule, neighbor_count: s.neighborCount, seed: s.groupingSeed },
    );
  } catch (e) {
    checkpoint?.abandon();
    throw e;
  }
  run.clock.mark('export model');
  await checkpoint?.commit();
  run.clock.mark('checkpoint flush');
  const finalLoss = st.train_loss.at(-1) ?? (st.partial_samples ? st.partial_loss_sum / st.partial_samples : null);
  log.log('debug', `phase timings (ms): ${run.clock.line()} (${p.sessions})`);
  log.emit({
    type: 'status',
    time: now(),
    status: 'done',
    step: st.step,
    epoch: st.epoch,
    message: `${stoppedBySteps ? `stopped at max_steps ${s.maxSteps}; ` : ''}model ${exported.path} (sha256 ${exported.sha256.slice(0, 12)}…, ${exported.bytes} bytes)`,
  });
  return {
    status: 'done',
    final_loss: finalLoss,
    epochs_completed: st.epoch,
    checkpoint_path: run.checkpointFile,
    model_path: exported.path,
    model_sha256: exported.sha256,
    model_bytes: exported.bytes,
    steps: st.step,
    val_loss: st.val_loss.at(-1) ?? null,
    stopped_early: st.stopped_early,
    early_stopping_monitor: s.earlyStopping.monitor,
    execution_provider: trainer.provider,
    parameter_count: p.pinn.parameterCount,
    groups: {
      count: p.groups,
      rule: s.groupingRule,
      neighbor_count: p.data.groups.neighborCount,
      C: p.data.C,
      seed: s.groupingSeed,
    },
    nphotons: p.data.nphotons,
    intensity_scale: p.data.intensityScale,
  };
}

export async function trainJob(
  config: ResolvedJobConfig,
  job: JobWire,
  logPath: string,
  ctx: TrainJobContext,
): Promise<RunnerResult> {
  const clock = ctx.clock ?? createPhaseClock();
  mkdirSync(job.artifactDir, { recursive: true });
  // Before anything in the folder is touched: a second trainer must not write beside a live one.
  let folderLock: TrainerLock;
  try {
    folderLock = acquireTrainerLock(job.artifactDir);
  } catch (e) {
    return failed(null, e);
  }
  // history is only appended to until the inputs are known good (startFresh below)
  const attempt = beginEventsAttempt(job.eventsPath);
  const attemptId = ctx.attemptId && isAttemptId(ctx.attemptId) ? ctx.attemptId : newAttemptId();
  const attemptStart = performance.now();
  // a resumed curve's clock continues from its last event: the attempts' working time adds up
  const elapsedBefore = ctx.resume ? lastElapsedSeconds(job.eventsPath) : 0;
  let run: TrainingRun | null = null;
  const log = openJobLog({
    eventsPath: job.eventsPath,
    logPath,
    extra: config.training.logger,
    forward: ctx.onEvent,
    attemptEventsPath: attemptEventsPath(job.artifactDir, attemptId),
    stamp: () => ({
      attempt: attemptId,
      elapsed_s: Math.round(elapsedBefore * 1000 + (performance.now() - attemptStart)) / 1000,
      ...(run ? { epoch: run.state.epoch, step: run.state.step } : {}),
    }),
  });
  let trainer: Trainer | null = null;
  clock.mark('lock + log');
  try {
    const { prepared } = await prepareJob(config, job, ctx, log, clock);
    trainer = prepared.pinn.trainer;
    logModelSummary(log, prepared);
    const { state, resumed } = await resumeOrStartFresh(prepared, job, ctx, log);
    clock.mark(resumed ? 'resume from checkpoint' : 'fresh state');
    const s = prepared.settings;
    const stepsPerEpoch = Math.ceil(prepared.trainGroups / s.batchSize);
    run = {
      job,
      ctx,
      log,
      prepared,
      trainer,
      state,
      checkpointFile: checkpointPath(job.artifactDir),
      stepsPerEpoch,
      totalSteps: Math.min(s.epochs * stepsPerEpoch, s.maxSteps ?? Number.POSITIVE_INFINITY),
      startedAt: 0,
      startStep: state.step,
      epochGradNormSum: 0,
      epochSteps: 0,
      epochSamples: 0,
      epochTrainSeconds: 0,
      epochStartedAt: 0,
      previewFailed: false,
      clock,
      checkpointed: null,
    };
    if (!ctx.resume) attempt.startFresh(); // inputs are good: a fresh run starts a new curve
    log.emit({
      type: 'status',
      time: now(),
      status: resumed ? 'resumed' : 'started',
      step: state.step,
      epoch: state.epoch,
      total_steps: run.totalSteps,
      total_epochs: s.epochs,
      message: `${trainer.provider}, batch ${s.batchSize}, ${stepsPerEpoch} steps per epoch`,
    });
    run.startedAt = performance.now();
    run.epochStartedAt = run.startedAt;
    let stoppedBySteps = false;
    while (run.state.epoch < s.epochs && !run.state.stopped_early) {
      const outcome = await trainEpoch(run);
      if (outcome.kind === 'stopped') return outcome.result;
      if (outcome.kind === 'max-steps') {
        stoppedBySteps = true;
        break;
      }
    }
    return await finishJob(run, stoppedBySteps);
  } catch (e) {
    return failed(log, e);
  } finally {
    await trainer?.release();
    folderLock.release();
  }
}
