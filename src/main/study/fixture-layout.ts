/**
 * The seed's on-disk layout with placeholder datasets, for tests and demos of the
 * orchestration alone: every file is an empty but well-formed .npz (a zip with no arrays).
 * The engine only checks that files exist; the trainer is what reads them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import { defaultStudyDesign, type StudyDesign, type ViewName } from '../../shared/study';
import { planTrainingJobs, type StudyRoots } from './jobs';

export interface FixtureOptions {
  design?: StudyDesign;
  /** Views to leave out, e.g. `[{ dose: 1000, view: 'sparse' }]`. */
  omit?: { dose: number; view: ViewName }[];
}

export function createPlaceholderLayout(root: string, options: FixtureOptions = {}): StudyRoots {
  const roots: StudyRoots = {
    phaseCRoot: join(root, 'phase_c'),
    phaseDRoot: join(root, 'phase_d'),
    artifactRoot: join(root, 'artifacts'),
  };
  const empty = zipSync({});
  for (const job of planTrainingJobs(roots, options.design ?? defaultStudyDesign())) {
    if (options.omit?.some((o) => o.dose === job.dose && o.view === job.view)) continue;
    for (const file of [job.trainDataPath, job.testDataPath]) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, empty);
    }
  }
  return roots;
}
