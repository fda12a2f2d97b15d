/**
 * Child process for the crash test: runs a study whose runner takes a while per job and
 * says on stdout when each job starts, so the test can SIGKILL it mid-study.
 * Usage: node kill-child.mjs <phaseC> <phaseD> <artifacts>
 */
import { defaultStudyDesign, NO_FILTERS } from '../../shared/study';
import { checkTrainingJobs, planTrainingJobs } from './jobs';
import type { TrainingRunner } from './runner';
import { StudyRun } from './study-run';

const [phaseCRoot, phaseDRoot, artifactRoot] = process.argv.slice(2);
const roots = { phaseCRoot, phaseDRoot, artifactRoot };
const runner: TrainingRunner = async (_config, job, _log, ctx) => {
  process.stdout.write(`started ${job.id}\n`);
  for (let epoch = 0; epoch < 20; epoch++) {
    await new Promise((r) => setTimeout(r, 25));
    ctx.onEvent({
      type: 'epoch',
      time: new Date().toISOString(),
      epoch,
      train_loss: 1 / (epoch + 1),
      val_loss: null,
      lr: 1e-3,
    });
  }
  return { status: 'done', final_loss: 0.05, epochs_completed: 20, checkpoint_path: null };
};
const jobs = checkTrainingJobs(planTrainingJobs(roots, defaultStudyDesign()));
await new StudyRun({
  roots,
  design: defaultStudyDesign(),
  jobs,
  filters: NO_FILTERS,
  dryRun: false,
  knobs: { max_epochs: 20 },
  source: 'cli',
  runner,
}).execute();
