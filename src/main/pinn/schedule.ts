/**
 * Learning-rate schedule and early stopping with Keras's semantics (the original trains with
 * Keras callbacks): ReduceLROnPlateau(factor, patience, min_lr, min_delta 1e-4 absolute,
 * cooldown 0) and EarlyStopping(patience, min_delta 0). Plain state objects, so a
 * checkpoint stores them and a resumed run decides exactly as an uninterrupted one.
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

const PLATEAU_MIN_DELTA = 1e-4;

/** Returns the next state and the learning rate for the next epoch. */
export function plateauStep(
  state: PlateauState,
  monitored: number,
  lr: number,
  opts: { factor: number; patience: number; minLr: number },
): { state: PlateauState; lr: number; reduced: boolean } {
  if (state.best === null || monitored < state.best - PLATEAU_MIN_DELTA) {
    return { state: { best: monitored, wait: 0 }, lr, reduced: false };
  }
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
): { state: EarlyStopState; stop: boolean } {
  if (state.best === null || monitored < state.best) return { state: { best: monitored, wait: 0 }, stop: false };
  const wait = state.wait + 1;
  return { state: { best: state.best, wait }, stop: wait >= patience };
}

/** Keras validation_split: the last fraction of the samples, taken before shuffling. */
export function splitTrainValidation(count: number, fraction: number): { train: number; validation: number } {
  const train = Math.floor(count * (1 - fraction));
  return { train: Math.max(1, Math.min(count, train)), validation: count - Math.max(1, Math.min(count, train)) };
}
