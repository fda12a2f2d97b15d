/**
 * One training job, start to finish, in whatever process calls it (the worker, or a test
 * in-process): load and validate the study files, group and scale, build the PtychoPINN
 * train-step graph, run the epochs with Keras's schedule and early stopping, stream events,
 * checkpoint each epoch, stop within one step on cancel, stop on a non-finite loss as
 * `diverged`, and export model.onnx when done.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { ZodError } from 'zod';
import type { ResolvedJobConfig } from '../../shared/config';
import { isStudyError, StudyError } from '../../shared/errors';
import type { TrainEvent } from '../../shared/events';
import { loadStudyFile } from '../data/study-file';
import type { Trainer } from '../nn/trainer';
import { prepareTrainingData, type TrainingData } from '../pinn/dataset';
import { checkTrainingMemory } from '../pinn/memory-estimate';
import { createPinnTrainer, modelSpec } from '../pinn/pinn-trainer';
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
import { beginEventsAttempt } from './events-history';
import { type JobLog, openJobLog, truncateEventsAfter } from './job-log';
import type { JobWire, TrainerExtras } from './messages';
import { acquireTrainerLock, type TrainerLock } from './trainer-lock';

export interface TrainJobContext {
  signal: AbortSignal;
  onEvent(e: TrainEvent): void;
  resume?: boolean;
  extras?: TrainerExtras;
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
  const log = openJobLog({
    eventsPath: job.eventsPath,
    logPath,
    extra: config.training.logger,
    forward: ctx.onEvent,
  });
  let trainer: Trainer | null = null;
  try {
    const s = resolveSettings(config, ctx.extras ?? {});
    const file = await loadStudyFile(job.trainDataPath, { onWarning: (w) => log.log('warn', w) });
    if (job.testDataPath && existsSync(job.testDataPath)) {
      await loadStudyFile(job.testDataPath, { onWarning: (w) => log.log('warn', w) });
    }
    const data = prepareTrainingData(file, s);
    const G = data.groups.count;
    const split = s.validationSplit > 0 ? splitTrainValidation(G, s.validationSplit) : { train: G, validation: 0 };
    const nTrain = split.train;
    const B = s.batchSize;
    checkTrainingMemory(s, data.probe, data.intensityScale, nTrain);
    // "learned nothing" and "perfect" in the loss's units, for the schedule and the curves
    const trainRef = referenceNll(data, file, 0, nTrain);
    const valRef = split.validation > 0 ? referenceNll(data, file, nTrain, G, [0, nTrain]) : null;
    const asLossRef = (r: typeof trainRef): LossReference => ({
      meanPattern: r.meanPattern,
      floor: r.trueObject ?? r.saturated,
    });
    const pt = await createPinnTrainer(s, data, (m) => log.log('warn', m));
    trainer = pt.trainer;
    const spec = pt.spec;
    const count = pt.parameterCount;
    log.log(
      'info',
      `PtychoPINN N=${s.N} gridsize=${s.gridsize} probe_big=${s.probeBig} probe_mask=${s.probeMask}: ${count.toLocaleString('en-US')} parameters; ` +
        `${G} groups (${s.groupingRule}, K=${data.groups.neighborCount}, C=${data.C}, seed ${s.groupingSeed}), ${nTrain} train / ${split.validation} validation; ` +
        `nphotons ${data.nphotons.toPrecision(6)}, intensity scale ${data.intensityScale.toPrecision(6)} (${s.intensityScaleTrainable ? 'trainable' : 'fixed'}), probe gauge ${s.probeGauge}`,
    );
    log.log(
      'info',
      `execution provider ${trainer.provider} (${trainer.providerDetail}), ${s.threads} threads${s.deterministic ? ', deterministic' : ''}`,
    );

    const ckptPath = checkpointPath(job.artifactDir);
    const fingerprint = fingerprintOf(s, job, data, nTrain);
    let st = freshState(s, fingerprint);
    let resumed = false;
    if (ctx.resume) {
      if (existsSync(ckptPath)) {
        const ck = await readCheckpoint(ckptPath);
        if (ck.state.fingerprint !== fingerprint) {
          throw new StudyError('BAD_INPUT', 'the checkpoint was written for another model, data or grouping', {
            file: ckptPath,
            hint: 'train without --resume to start over',
          });
        }
        trainer.setState(ck.weights, ckptPath);
        st = ck.state;
        const dropped = truncateEventsAfter(job.eventsPath, st.step, st.epoch);
        resumed = true;
        log.log(
          'info',
          `resuming at step ${st.step} (epoch ${st.epoch + 1}, step ${st.step_in_epoch} of it); ${dropped} later events dropped`,
        );
      } else log.log('warn', `no checkpoint at ${ckptPath}; training from the start`);
    }

    const stepsPerEpoch = Math.ceil(nTrain / B);
    const totalSteps = Math.min(s.epochs * stepsPerEpoch, s.maxSteps ?? Number.POSITIVE_INFINITY);
    if (!ctx.resume) attempt.startFresh(); // inputs are good: a fresh run starts a new curve
    log.emit({
      type: 'status',
      time: now(),
      status: resumed ? 'resumed' : 'started',
      step: st.step,
      epoch: st.epoch,
      total_steps: totalSteps,
      total_epochs: s.epochs,
      message: `${trainer.provider}, batch ${B}, ${stepsPerEpoch} steps per epoch`,
    });

    const feeds = pt.feeds;
    // Device-resident state (webgpu) comes to the host for the checkpoint and the export.
    const save = async () => {
      await trainer!.syncToHost();
      return writeCheckpoint(ckptPath, trainer!.getState(), st);
    };
    const runStart = performance.now();
    const runStartStep = st.step;
    const eta = () => {
      const done = st.step - runStartStep;
      if (done === 0) return null;
      return (((performance.now() - runStart) / 1000) * Math.max(0, totalSteps - st.step)) / done;
    };

    const cancel = async (): Promise<RunnerResult> => {
      await save();
      // A plain cancel has no reason; the worker gives one when its parent died or it got SIGTERM.
      const why = typeof ctx.signal.reason === 'string' ? `${ctx.signal.reason}; ` : '';
      log.emit({
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
        checkpoint_path: ckptPath,
      };
    };
    const diverged = (what: string, step: number): RunnerResult => {
      const message =
        `${what} (epoch ${st.epoch + 1}, learning rate ${st.lr}); ` +
        'hint: lower the learning rate, or check that the data are amplitudes scaled as DATA-001 says';
      log.emit({ type: 'status', time: now(), status: 'diverged', step, epoch: st.epoch, message });
      return {
        status: 'diverged',
        final_loss: null,
        epochs_completed: st.epoch,
        checkpoint_path: existsSync(ckptPath) ? ckptPath : null,
        error: message,
        diverged_at_step: step,
      };
    };
    let stoppedBySteps = false;
    epochs: while (st.epoch < s.epochs && !st.stopped_early) {
      const rng = trainerRng(st.epoch_rng);
      const perm = permutation(rng, nTrain);
      const nextEpochRng = rng.state();
      for (let k = st.step_in_epoch; k < stepsPerEpoch; k++) {
        if (s.maxSteps !== null && st.step >= s.maxSteps) {
          stoppedBySteps = true;
          break epochs;
        }
        if (ctx.signal.aborted) return cancel();
        const ids = perm.subarray(k * B, Math.min((k + 1) * B, nTrain));
        const batch = pt.batch(ids);
        const t0 = performance.now();
        const stepLr = warmupLr(st.lr, st.step);
        const r = await trainer.trainStep(feeds(batch), stepLr);
        const dt = (performance.now() - t0) / 1000;
        if (!Number.isFinite(r.loss)) return diverged(`loss became ${r.loss} at step ${st.step + 1}`, st.step + 1);
        st.step++;
        st.step_in_epoch = k + 1;
        st.partial_loss_sum += r.loss * batch.count;
        st.partial_samples += batch.count;
        if (st.step % s.stepEventEvery === 0 || k === stepsPerEpoch - 1) {
          log.emit({
            type: 'step',
            time: now(),
            step: st.step,
            epoch: st.epoch,
            loss: r.loss,
            samples_per_s: batch.count / dt,
            lr: stepLr,
          });
        }
        if (st.step % 20 === 0) {
          log.emit({
            type: 'progress',
            time: now(),
            step: st.step,
            total_steps: totalSteps,
            epoch: st.epoch,
            total_epochs: s.epochs,
            eta_s: eta(),
          });
        }
        if (ctx.signal.aborted) return cancel();
      }
      const trainLoss = st.partial_loss_sum / Math.max(1, st.partial_samples);
      let valLoss: number | null = null;
      if (split.validation > 0) {
        let acc = 0;
        for (let v = nTrain; v < G; v += B) {
          const ids = Array.from({ length: Math.min(B, G - v) }, (_, i) => v + i);
          const batch = pt.batch(ids);
          acc += (await trainer.evaluate(feeds(batch))).loss * batch.count;
        }
        valLoss = acc / split.validation;
      }
      // The last update can leave the weights non-finite while every step's loss was finite.
      if (!Number.isFinite(trainLoss))
        return diverged(`the epoch's mean loss became ${trainLoss} at step ${st.step}`, st.step);
      if (valLoss !== null && !Number.isFinite(valLoss))
        return diverged(`validation loss became ${valLoss} after step ${st.step}`, st.step);
      const usedLr = st.lr;
      const monitored = valLoss ?? trainLoss;
      const monitoredRef = asLossRef(valLoss !== null && valRef ? valRef : trainRef);
      const plateau = plateauStep(st.plateau, monitored, st.lr, s.plateau, monitoredRef);
      const esMonitored = s.earlyStopping.monitor === 'val_loss' && valLoss !== null ? valLoss : trainLoss;
      const es = earlyStopStep(
        st.early_stop,
        esMonitored,
        s.earlyStopping.patience,
        asLossRef(esMonitored === valLoss && valRef ? valRef : trainRef),
      );
      st = {
        ...st,
        epoch: st.epoch + 1,
        step_in_epoch: 0,
        epoch_rng: nextEpochRng,
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
        epoch: st.epoch - 1,
        step: st.step,
        train_loss: trainLoss,
        val_loss: valLoss,
        lr: usedLr,
        eta_s: eta() ?? undefined,
        mean_pattern_nll: trainRef.meanPattern,
        true_object_nll: trainRef.trueObject,
        ...(valRef ? { val_mean_pattern_nll: valRef.meanPattern, val_true_object_nll: valRef.trueObject } : {}),
      });
      if (plateau.reduced)
        log.log('info', `learning rate reduced to ${plateau.lr} (no improvement for ${s.plateau.patience} epochs)`);
      if (es.stop) {
        const monitor = s.earlyStopping.monitor === 'val_loss' && valLoss !== null ? 'val_loss' : 'loss';
        log.log(
          'info',
          `early stopping after epoch ${st.epoch}: ${monitor} did not improve for ${s.earlyStopping.patience} epochs`,
        );
      }
      if (!s.disableCheckpointing) await save();
    }

    await save();
    const exported = exportModel(
      job.artifactDir,
      spec,
      data.probe,
      data.intensityScale,
      data.nphotons,
      trainer.parameters(),
      count,
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
      checkpoint_path: ckptPath,
      model_path: exported.path,
      model_sha256: exported.sha256,
      model_bytes: exported.bytes,
      steps: st.step,
      val_loss: st.val_loss.at(-1) ?? null,
      stopped_early: st.stopped_early,
      early_stopping_monitor: s.earlyStopping.monitor,
      execution_provider: trainer.provider,
      parameter_count: count,
      groups: {
        count: G,
        rule: s.groupingRule,
        neighbor_count: data.groups.neighborCount,
        C: data.C,
        seed: s.groupingSeed,
      },
      nphotons: data.nphotons,
      intensity_scale: data.intensityScale,
    };
  } catch (e) {
    return failed(log, e);
  } finally {
    await trainer?.release();
    folderLock.release();
  }
}
