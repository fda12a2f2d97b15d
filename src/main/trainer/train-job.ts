/**
 * One training job, start to finish, in whatever process calls it (the worker, or a test
 * in-process): load and validate the study files, group and scale, build the PtychoPINN
 * train-step graph, run the epochs with Keras's schedule and early stopping, stream events,
 * checkpoint each epoch, stop within one step on cancel, stop on a non-finite loss as
 * `diverged`, and export model.onnx when done.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { ZodError } from 'zod';
import type { ResolvedJobConfig } from '../../shared/config';
import { isStudyError, StudyError } from '../../shared/errors';
import type { TrainEvent } from '../../shared/events';
import { loadStudyFile } from '../data/study-file';
import type { StudyFile } from '../data/study-file';
import type { Trainer } from '../nn/trainer';
import { prepareTrainingData, type TrainingData } from '../pinn/dataset';
import { checkTrainingMemory } from '../pinn/memory-estimate';
import { createPinnTrainer, modelSpec, type PinnTrainer } from '../pinn/pinn-trainer';
import { exportModel } from '../pinn/export';
import { permutation, seedState, trainerRng } from '../numeric/rng';
import { referenceNll } from '../pinn/reference-nll';
import {
  earlyStopStep,
  initialEarlyStop,
  initialPlateau,
  type LossReference,
  plateauStep,
  splitTrainValidation,
  warmupLr,
} from '../pinn/schedule';
import { type PinnSettings, resolveSettings } from '../pinn/settings';
import type { RunnerResult } from '../study/runner';
import { checkpointPath, readCheckpoint, type TrainerState, writeCheckpoint } from './checkpoint';
import { attemptEventsPath, isAttemptId, newAttemptId } from './attempts';
import { beginEventsAttempt } from './events-history';
import { type JobLog, openJobLog, truncateEventsAfter } from './job-log';
import { type PreviewImages, writePreview } from './previews';
import type { JobWire, TrainerExtras } from './messages';
import { acquireTrainerLock, type TrainerLock } from './trainer-lock';

export interface TrainJobContext {
  signal: AbortSignal;
  onEvent(e: TrainEvent): void;
  resume?: boolean;
  extras?: TrainerExtras;
  /** Names this attempt (`runs/<attemptId>/`); the study run's id when a run starts it, else a new one. */
  attemptId?: string;
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

/** Everything a job trains from, checked and built: the `prepare` stage's answer. */
interface PreparedJob {
  settings: PinnSettings;
  data: TrainingData;
  /** Groups in all, the first `trainGroups` for training and the rest for validation. */
  groups: number;
  trainGroups: number;
  validationGroups: number;
  /** "learned nothing" and "perfect" in the loss's units, for the schedule and the curves. */
  trainReference: ReturnType<typeof referenceNll>;
  validationReference: ReturnType<typeof referenceNll> | null;
  pinn: PinnTrainer;
  fingerprint: string;
  /** The group every epoch's preview shows (the first validation group, else the first group), and its ground truth when known. */
  previewGroup: number;
  previewTruth: Pick<PreviewImages, 'trueAmplitude' | 'truePhase'>;
}

/** A job being trained: what was prepared, the trainer state that a checkpoint holds, and the run's clocks. */
interface TrainingRun {
  job: JobWire;
  ctx: TrainJobContext;
  log: JobLog;
  prepared: PreparedJob;
  trainer: Trainer;
  state: TrainerState;
  checkpointFile: string;
  stepsPerEpoch: number;
  totalSteps: number;
  startedAt: number;
  startStep: number;
  /** Σ gradient norm, steps and training seconds of the epoch under way (for its epoch event). */
  epochGradNormSum: number;
  epochSteps: number;
  epochSamples: number;
  epochTrainSeconds: number;
  epochStartedAt: number;
  /** A preview failed once: say so once, keep training. */
  previewFailed: boolean;
}

/**
 * Load and check the study files, group and scale, measure the loss references and build
 * the trainer. Throws on bad inputs; nothing in the job's curve has changed yet.
 */
async function prepareJob(config: ResolvedJobConfig, job: JobWire, ctx: TrainJobContext, log: JobLog) {
  const settings = resolveSettings(config, ctx.extras ?? {});
  const warn = (w: string) => log.log('warn', w);
  const file: StudyFile = await loadStudyFile(job.trainDataPath, { onWarning: warn });
  if (job.testDataPath && existsSync(job.testDataPath)) await loadStudyFile(job.testDataPath, { onWarning: warn });
  const data = prepareTrainingData(file, settings);
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
  const pinn = await createPinnTrainer(settings, data, warn);
  const previewGroup = split.validation > 0 ? trainGroups : 0;
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
      previewTruth: groundTruthOf(file, data, previewGroup),
    } satisfies PreparedJob,
    file,
  };
}

/**
 * The true object patch of a gridsize-1 group (the file's Y at its scan point), as the
 * preview's amplitude and phase; none for larger groups (their output is a reassembled
 * canvas no single Y patch matches) or without Y.
 */
function groundTruthOf(file: StudyFile, data: TrainingData, group: number): PreviewJob['previewTruth'] {
  const N = data.N;
  if (data.C !== 1 || !file.Y || file.Y.shape[1] !== N || file.Y.shape[2] !== N) return {};
  const point = data.groups.indices[group * data.C];
  const y = file.Y.data as Float32Array | Float64Array;
  const amplitude = new Float32Array(N * N);
  const phase = new Float32Array(N * N);
  const base = point * N * N * 2;
  for (let i = 0; i < N * N; i++) {
    const re = y[base + 2 * i];
    const im = y[base + 2 * i + 1];
    amplitude[i] = Math.hypot(re, im);
    phase[i] = Math.atan2(im, re);
  }
  return { trueAmplitude: { data: amplitude, size: N }, truePhase: { data: phase, size: N } };
}

type PreviewJob = Pick<PreparedJob, 'previewTruth'>;

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
    `execution provider ${trainer.provider} (${trainer.providerDetail}), ${s.threads} threads${s.deterministic ? ', deterministic' : ''}`,
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

/** The training clock (`elapsed_s`) of the last event in an events file that has one; 0 if none. */
function lastElapsedSeconds(eventsPath: string): number {
  if (!existsSync(eventsPath)) return 0;
  const size = statSync(eventsPath).size;
  const length = Math.min(size, 64 << 10);
  const buf = Buffer.alloc(length);
  const fd = openSync(eventsPath, 'r');
  try {
    readSync(fd, buf, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const lines = buf.toString('utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v = (JSON.parse(lines[i]) as { elapsed_s?: unknown }).elapsed_s;
      if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    } catch {
      // a torn or cut line
    }
  }
  return 0;
}

/** Device-resident state (webgpu) comes to the host for the checkpoint and the export. */
async function saveCheckpoint(run: TrainingRun): Promise<void> {
  await run.trainer.syncToHost();
  await writeCheckpoint(run.checkpointFile, run.trainer.getState(), run.state);
}

/** Seconds left at the step rate of this attempt; null before its first step. */
function secondsLeft(run: TrainingRun): number | null {
  const done = run.state.step - run.startStep;
  if (done === 0) return null;
  return (((performance.now() - run.startedAt) / 1000) * Math.max(0, run.totalSteps - run.state.step)) / done;
}

async function cancelWithCheckpoint(run: TrainingRun): Promise<RunnerResult> {
  await saveCheckpoint(run);
  const st = run.state;
  // A plain cancel has no reason; the worker gives one when its parent died or it got SIGTERM.
  const why = typeof run.ctx.signal.reason === 'string' ? `${run.ctx.signal.reason}; ` : '';
  run.log.emit({
    type: 'status',
    time: now(),
    status: 'cancelled',
    step: st.step,
    epoch: st.epoch,
    message: `${why}checkpoint written at step ${st.step}; resume with --resume`,
  });
  return {
    status: 'cancelled',
    final_loss: st.train_loss.at(-1) ?? null,
    epochs_completed: st.epoch,
    checkpoint_path: run.checkpointFile,
  };
}

function divergedResult(run: TrainingRun, what: string, step: number): RunnerResult {
  const st = run.state;
  const message =
    `${what} (epoch ${st.epoch + 1}, learning rate ${st.lr}); ` +
    'hint: lower the learning rate, or check that the data are amplitudes scaled as DATA-001 says';
  run.log.emit({ type: 'status', time: now(), status: 'diverged', step, epoch: st.epoch, message });
  return {
    status: 'diverged',
    final_loss: null,
    epochs_completed: st.epoch,
    checkpoint_path: existsSync(run.checkpointFile) ? run.checkpointFile : null,
    error: message,
    diverged_at_step: step,
  };
}

/** How an epoch ended: it completed, or the job stopped inside it (the result says how). */
type EpochOutcome = { kind: 'completed' } | { kind: 'max-steps' } | { kind: 'stopped'; result: RunnerResult };

/** The epoch's training steps, from where the state says the epoch stands. */
async function trainEpochSteps(run: TrainingRun): Promise<EpochOutcome & { nextEpochRng?: TrainerState['epoch_rng'] }> {
  const { prepared: p, trainer, log } = run;
  const s = p.settings;
  const B = s.batchSize;
  const rng = trainerRng(run.state.epoch_rng);
  const order = permutation(rng, p.trainGroups);
  const nextEpochRng = rng.state();
  for (let k = run.state.step_in_epoch; k < run.stepsPerEpoch; k++) {
    const st = run.state;
    if (s.maxSteps !== null && st.step >= s.maxSteps) return { kind: 'max-steps' };
    if (run.ctx.signal.aborted) return { kind: 'stopped', result: await cancelWithCheckpoint(run) };
    const ids = order.subarray(k * B, Math.min((k + 1) * B, p.trainGroups));
    const batch = p.pinn.batch(ids);
    const t0 = performance.now();
    const stepLr = warmupLr(st.lr, st.step);
    const r = await trainer.trainStep(p.pinn.feeds(batch), stepLr);
    const seconds = (performance.now() - t0) / 1000;
    if (!Number.isFinite(r.loss))
      return {
        kind: 'stopped',
        result: divergedResult(run, `loss became ${r.loss} at step ${st.step + 1}`, st.step + 1),
      };
    st.step++;
    st.step_in_epoch = k + 1;
    st.partial_loss_sum += r.loss * batch.count;
    st.partial_samples += batch.count;
    run.epochGradNormSum += r.gradNorm;
    run.epochSteps++;
    run.epochSamples += batch.count;
    run.epochTrainSeconds += seconds;
    if (st.step % s.stepEventEvery === 0 || k === run.stepsPerEpoch - 1) {
      log.emit({
        type: 'step',
        time: now(),
        step: st.step,
        epoch: st.epoch,
        loss: r.loss,
        samples_per_s: batch.count / seconds,
        lr: stepLr,
        grad_norm: r.gradNorm,
        loss_terms: { poisson_nll: r.loss },
      });
    }
    if (st.step % 20 === 0) {
      log.emit({
        type: 'progress',
        time: now(),
        step: st.step,
        total_steps: run.totalSteps,
        epoch: st.epoch,
        total_epochs: s.epochs,
        eta_s: secondsLeft(run),
      });
    }
    if (run.ctx.signal.aborted) return { kind: 'stopped', result: await cancelWithCheckpoint(run) };
  }
  return { kind: 'completed', nextEpochRng };
}

/** Mean loss over the validation groups with the current weights; null without any. */
async function validationLoss(run: TrainingRun): Promise<number | null> {
  const p = run.prepared;
  if (p.validationGroups === 0) return null;
  const B = p.settings.batchSize;
  let sum = 0;
  for (let v = p.trainGroups; v < p.groups; v += B) {
    const ids = Array.from({ length: Math.min(B, p.groups - v) }, (_, i) => v + i);
    const batch = p.pinn.batch(ids);
    sum += (await run.trainer.evaluate(p.pinn.feeds(batch))).loss * batch.count;
  }
  return sum / p.validationGroups;
}

const asLossReference = (r: ReturnType<typeof referenceNll>): LossReference => ({
  meanPattern: r.meanPattern,
  floor: r.trueObject ?? r.saturated,
});

/**
 * The `epoch` stage: train the epoch's steps, validate, step the learning-rate plateau and
 * early-stopping schedules, record the epoch and checkpoint it.
 */
async function trainEpoch(run: TrainingRun): Promise<EpochOutcome> {
  const steps = await trainEpochSteps(run);
  if (steps.kind !== 'completed') return steps;
  const { prepared: p, log } = run;
  const s = p.settings;
  const st = run.state;
  const trainLoss = st.partial_loss_sum / Math.max(1, st.partial_samples);
  const valLoss = await validationLoss(run);
  // The last update can leave the weights non-finite while every step's loss was finite.
  if (!Number.isFinite(trainLoss))
    return {
      kind: 'stopped',
      result: divergedResult(run, `the epoch's mean loss became ${trainLoss} at step ${st.step}`, st.step),
    };
  if (valLoss !== null && !Number.isFinite(valLoss))
    return {
      kind: 'stopped',
      result: divergedResult(run, `validation loss became ${valLoss} after step ${st.step}`, st.step),
    };
  const trainRef = p.trainReference;
  const valRef = p.validationReference;
  const usedLr = st.lr;
  // this attempt's part of the epoch (a resumed epoch counts only the steps taken since)
  const epochScalars = {
    loss_terms: { poisson_nll: trainLoss },
    val_loss_terms: valLoss === null ? null : { poisson_nll: valLoss },
    ...(run.epochSteps > 0
      ? {
          grad_norm: run.epochGradNormSum / run.epochSteps,
          samples_per_s: run.epochTrainSeconds > 0 ? run.epochSamples / run.epochTrainSeconds : 0,
        }
      : {}),
    duration_s: (performance.now() - run.epochStartedAt) / 1000,
  };
  const monitored = valLoss ?? trainLoss;
  const monitoredRef = asLossReference(valLoss !== null && valRef ? valRef : trainRef);
  const plateau = plateauStep(st.plateau, monitored, st.lr, s.plateau, monitoredRef);
  const esMonitored = s.earlyStopping.monitor === 'val_loss' && valLoss !== null ? valLoss : trainLoss;
  const es = earlyStopStep(
    st.early_stop,
    esMonitored,
    s.earlyStopping.patience,
    asLossReference(esMonitored === valLoss && valRef ? valRef : trainRef),
  );
  run.state = {
    ...st,
    epoch: st.epoch + 1,
    step_in_epoch: 0,
    epoch_rng: steps.nextEpochRng!,
    lr: plateau.lr,
    plateau: plateau.state,
    early_stop: es.state,
    train_loss: [...st.train_loss, trainLoss],
    val_loss: [...st.val_loss, valLoss],
    partial_loss_sum: 0,
    partial_samples: 0,
    stopped_early: es.stop,
  };
  log.emit({
    type: 'epoch',
    time: now(),
    epoch: run.state.epoch - 1,
    step: run.state.step,
    train_loss: trainLoss,
    val_loss: valLoss,
    lr: usedLr,
    eta_s: secondsLeft(run) ?? undefined,
    mean_pattern_nll: trainRef.meanPattern,
    true_object_nll: trainRef.trueObject,
    ...(valRef ? { val_mean_pattern_nll: valRef.meanPattern, val_true_object_nll: valRef.trueObject } : {}),
    ...epochScalars,
  });
  await writeEpochPreview(run, run.state.epoch - 1);
  run.epochGradNormSum = 0;
  run.epochSteps = 0;
  run.epochSamples = 0;
  run.epochTrainSeconds = 0;
  run.epochStartedAt = performance.now();
  if (plateau.reduced)
    log.log('info', `learning rate reduced to ${plateau.lr} (no improvement for ${s.plateau.patience} epochs)`);
  if (es.stop) {
    const monitor = s.earlyStopping.monitor === 'val_loss' && valLoss !== null ? 'val_loss' : 'loss';
    log.log(
      'info',
      `early stopping after epoch ${run.state.epoch}: ${monitor} did not improve for ${s.earlyStopping.patience} epochs`,
    );
  }
  if (!s.disableCheckpointing) await saveCheckpoint(run);
  return { kind: 'completed' };
}

/**
 * One forward pass of the preview group, written as `previews/epoch_<n>.png` with a
 * `preview` event. A preview that fails is reported once and training goes on.
 */
async function writeEpochPreview(run: TrainingRun, epoch: number): Promise<void> {
  if (run.previewFailed) return;
  const p = run.prepared;
  try {
    const out = await run.trainer.forward(
      { amplitude: p.pinn.graph.amplitude, phase: p.pinn.graph.phaseOut },
      p.pinn.feeds(p.pinn.batch([p.previewGroup])),
    );
    const N = p.data.N;
    // the first sample of the padded batch is the preview group
    const first = (name: string) => (out[name].data as Float32Array).slice(0, N * N);
    const written = writePreview(run.job.artifactDir, epoch, p.previewGroup, {
      amplitude: { data: first('amplitude'), size: N },
      phase: { data: first('phase'), size: N },
      ...p.previewTruth,
    });
    run.log.emit({
      type: 'preview',
      time: now(),
      epoch,
      step: run.state.step,
      file: written.file,
      group: p.previewGroup,
      width: written.width,
      height: written.height,
      bytes: written.bytes,
    });
  } catch (e) {
    run.previewFailed = true;
    run.log.log('warn', `no reconstruction previews for this run: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The `finish` stage: the final checkpoint, model.onnx and its card, and the `done` record. */
async function finishJob(run: TrainingRun, stoppedBySteps: boolean): Promise<RunnerResult> {
  const { prepared: p, trainer, log } = run;
  const s = p.settings;
  await saveCheckpoint(run);
  const st = run.state;
  const exported = exportModel(
    run.job.artifactDir,
    p.pinn.spec,
    p.data.probe,
    p.data.intensityScale,
    p.data.nphotons,
    trainer.parameters(),
    p.pinn.parameterCount,
    { rule: s.groupingRule, neighbor_count: s.neighborCount, seed: s.groupingSeed },
  );
  const finalLoss = st.train_loss.at(-1) ?? (st.partial_samples ? st.partial_loss_sum / st.partial_samples : null);
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
  try {
    const { prepared } = await prepareJob(config, job, ctx, log);
    trainer = prepared.pinn.trainer;
    logModelSummary(log, prepared);
    const { state, resumed } = await resumeOrStartFresh(prepared, job, ctx, log);
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
