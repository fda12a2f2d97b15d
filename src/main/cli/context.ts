/**
 * What the `ptycho-study` program is given by its entry point rather than importing for
 * itself: the training runner (the binary passes the worker-process trainer; tests pass their
 * own; without one a real run fails each job with RUNNER_MISSING, a dry run needs none).
 */
import type { TrainingRunner } from '../study/runner';

export interface CliContext {
  runner?: TrainingRunner | null;
}
