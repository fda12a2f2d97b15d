/**
 * Learning-rate schedule and early stopping with Keras's semantics (the original trains with
 * Keras callbacks): ReduceLROnPlateau(factor, patience, min_lr, cooldown 0) and
 * EarlyStopping(patience, min_delta 0). Plain state objects, so a checkpoint stores them and
 * a resumed run decides exactly as an uninterrupted one.
 *
 * Two changes make the schedule independent of the dose (the Poisson NLL and its changes
 * scale with the counts, so Keras's absolute min_delta 1e-4 halved the rate twice in 143
 * steps at dose 1e3 and never at 1e5):
 *   - min_delta is relative to the loss's dynamic range, mean-pattern NLL − true-object NLL
 *     (or − the saturated NLL when there is no ground truth): {@link PLATEAU_MIN_DELTA_REL};
 *   - while the monitored loss is still above the mean-pattern predictor's, the model has
 *     learned nothing yet: neither the plateau nor early stopping counts that epoch.
 * And a linear warm-up over the first {@link WARMUP_STEPS} steps: with the original's
 * default probe_big (×1000 border gain) and probe_mask off, Adam's first full-size step
 * threw the loss 70× above the mean-pattern predictor at step 2 (see the model doc).
 */

export interface PlateauState {
  best: number | null;
  wait: number;
}

export interface EarlyStopState {
  best: number | null;
  wait: number;
}

export const initialPlateau = (): PlateauState => ({ best: null, wait: 0 });
export const initialEarlyStop = (): EarlyStopState => ({ best: null, wait: 0 });

/** Keras's absolute min_delta: used only when no loss reference is known. */
export const PLATEAU_MIN_DELTA_ABS = 1e-4;
/** An epoch improves when the loss falls by this fraction of its dynamic range. */
export const PLATEAU_MIN_DELTA_REL = 1e-3;
/** Steps of linear learning-rate warm-up. */
export const WARMUP_STEPS = 20;

/** Reference losses of the monitored set (reference-nll.ts). */
export interface LossReference {
  meanPattern: number;
  /** True-object NLL where the ground truth is known, else the saturated NLL. */
  floor: number;
}

/** Keras min_delta in the loss's units: a fixed fraction of the dose-dependent dynamic range. */
export function plateauMinDelta(ref: LossReference | null): number {
  if (!ref) return PLATEAU_MIN_DELTA_ABS;
  const range = ref.meanPattern - ref.floor;
  return range > 0 ? PLATEAU_MIN_DELTA_REL * range : PLATEAU_MIN_DELTA_ABS;
}

/** Still above the mean-pattern predictor: the model has not started to learn. */
export const stillAboveMeanPattern = (monitored: number, ref: LossReference | null) =>
  ref !== null && monitored >= ref.meanPattern;

/** The learning rate for 0-based step `step`: a linear ramp to `lr` over `warmup` steps. */
export function warmupLr(lr: number, step: number, warmup = WARMUP_STEPS): number {
  return warmup > 0 && step < warmup ? (lr * (step + 1)) / warmup : lr;
}

/** Returns the next state and the learning rate for the next epoch. */
export function plateauStep(
  state: PlateauState,
  monitored: number,
  lr: number,
  opts: { factor: number; patience: number; minLr: number },
  ref: LossReference | null = null,
): { state: PlateauState; lr: number; reduced: boolean } {
  if (state.best === null || monitored < state.best - plateauMinDelta(ref)) {
    return { state: { best: monitored, wait: 0 }, lr, reduced: false };
  }
  if (stillAboveMeanPattern(monitored, ref)) return { state, lr, reduced: false };
  const wait = state.wait + 1;
  if (wait >= opts.patience && lr > opts.minLr) {
    const next = Math.max(lr * opts.factor, opts.minLr);
    return { state: { best: state.best, wait: 0 }, lr: next, reduced: next < lr };
  }
  return { state: { best: state.best, wait }, lr, reduced: false };
}

/** Returns the next state and whether training stops after this epoch. */
export function earlyStopStep(
  state: EarlyStopState,
  monitored: number,
  patience: number,
  ref: LossReference | null = null,
): { state: EarlyStopState; stop: boolean } {
  if (state.best === null || monitored < state.best) return { state: { best: monitored, wait: 0 }, stop: false };
  if (stillAboveMeanPattern(monitored, ref)) return { state, stop: false };
  const wait = state.wait + 1;
  return { state: { best: state.best, wait }, stop: wait >= patience };
}

/** Keras validation_split: the last fraction of the samples, taken before shuffling. */
export function splitTrainValidation(count: number, fraction: number): { train: number; validation: number } {
  const train = Math.floor(count * (1 - fraction));
  return { train: Math.max(1, Math.min(count, train)), validation: count - Math.max(1, Math.min(count, train)) };
}
