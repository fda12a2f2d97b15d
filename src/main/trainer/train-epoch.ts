/**
 * The epoch stage of a training job (train-job.ts runs the stages): the epoch's steps with
 * their events, validation, the learning-rate plateau and early-stopping schedules, the
 * epoch's record and preview, and the checkpoint; a cancel or a non-finite loss ends the
 * job from inside the epoch.
 */
import { existsSync } from 'node:fs';
import type { StagedWrite } from '../data/atomic';
import type { Trainer } from '../nn/trainer';
import { permutation, trainerRng } from '../numeric/rng';
import { gatherBatch, type TrainingData } from '../pinn/dataset';
import type { PinnGraph } from '../pinn/model';
import type { PinnTrainer } from '../pinn/pinn-trainer';
import type { referenceNll } from '../pinn/reference-nll';
import { earlyStopStep, type LossReference, plateauStep, warmupLr } from '../pinn/schedule';
import type { PinnSettings } from '../pinn/settings';
import type { RunnerResult } from '../study/runner';
import { stageCheckpoint, type TrainerState, writeCheckpoint } from './checkpoint';
import type { JobLog } from './job-log';
import type { JobWire } from './messages';
import type { PhaseClock } from './phases';
import { type PreviewImages, writePreview } from './previews';
import type { TrainJobContext } from './train-job';

const now = () => new Date().toISOString();

/** Everything a job trains from, checked and built: the `prepare` stage's answer. */
export interface PreparedJob {
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
  /** The forward model at a batch of one (the same parameters by name): a preview costs one group's pass. */
  previewGraph: PinnGraph;
  /** Where the train and evaluate sessions came from (kept from an earlier job, or created), for the phase timings. */
  sessions: string;
  /** CPU: how idle intra-op threads wait (spin-policy.ts), for the job log; null elsewhere. */
  threadWait: string | null;
}

/** A job being trained: what was prepared, the trainer state that a checkpoint holds, and the run's clocks. */
export interface TrainingRun {
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
  /** The job's phase timings (start-up, steps, validation, preview, checkpoint, export). */
  clock: PhaseClock;
  /** Where this attempt last wrote the checkpoint; the final one is not written twice. */
  checkpointed: { step: number; epoch: number } | null;
}

/** Device-resident state (webgpu) comes to the host for the checkpoint and the export. */
export async function saveCheckpoint(run: TrainingRun): Promise<void> {
  await run.trainer.syncToHost();
  await writeCheckpoint(run.checkpointFile, run.trainer.getState(), run.state);
  run.checkpointed = { step: run.state.step, epoch: run.state.epoch };
}

/**
 * saveCheckpoint in two halves: the state is in the checkpoint's temp file when this
 * resolves (no copy of it is made), its flush to disk runs meanwhile, and `commit()` puts
 * the file in place. The job's last checkpoint flushes while its model is exported.
 */
export async function stageFinalCheckpoint(run: TrainingRun): Promise<StagedWrite> {
  await run.trainer.syncToHost();
  const staged = stageCheckpoint(run.checkpointFile, run.trainer.getState(undefined, { copy: false }), run.state);
  const at = { step: run.state.step, epoch: run.state.epoch };
  return {
    async commit() {
      await staged.commit();
      run.checkpointed = at;
    },
    abandon: () => staged.abandon(),
  };
}

/** The checkpoint on disk holds this very state (no step and no epoch since it was written). */
export function isCheckpointCurrent(run: TrainingRun): boolean {
  return run.checkpointed?.step === run.state.step && run.checkpointed.epoch === run.state.epoch;
}

/** Seconds left at the step rate of this attempt; null before its first step. */
function secondsLeft(run: TrainingRun): number | null {
  const done = run.state.step - run.startStep;
  if (done === 0) return null;
  return (((performance.now() - run.startedAt) / 1000) * Math.max(0, run.totalSteps - run.state.step)) / done;
}

export async function cancelWithCheckpoint(run: TrainingRun): Promise<RunnerResult> {
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
export type EpochOutcome = { kind: 'completed' } | { kind: 'max-steps' } | { kind: 'stopped'; result: RunnerResult };

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
    run.clock.mark(st.step === run.startStep ? 'first step' : 'steps');
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
export async function trainEpoch(run: TrainingRun): Promise<EpochOutcome> {
  const steps = await trainEpochSteps(run);
  if (steps.kind !== 'completed') return steps;
  const { prepared: p, log } = run;
  const s = p.settings;
  const st = run.state;
  const trainLoss = st.partial_loss_sum / Math.max(1, st.partial_samples);
  const valLoss = await validationLoss(run);
  run.clock.mark('validation');
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
  run.clock.mark('epoch record + preview');
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
  // The job's last epoch leaves its checkpoint (the same state) to the finish stage, which
  // writes it while the model is exported instead of waiting here for its flush to disk.
  const last = run.state.epoch >= s.epochs || run.state.stopped_early;
  if (!s.disableCheckpointing && !last) await saveCheckpoint(run);
  run.clock.mark('checkpoint');
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
      { amplitude: p.previewGraph.amp, phase: p.previewGraph.phase },
      p.pinn.feeds(gatherBatch(p.data, [p.previewGroup], 1)),
    );
    const N = p.data.N;
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
