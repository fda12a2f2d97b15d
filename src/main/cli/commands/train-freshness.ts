/** The per-job "up to date" / "will run: <reason>" lines `train` prints before it runs anything. */
import { describeFreshness } from '../../../shared/fingerprint';
import type { TrainingJob } from '../../study/jobs';
import { freshnessOf, type StaleSelection } from '../../study/up-to-date';

export function printFreshness(
  jobs: TrainingJob[],
  stale: StaleSelection,
  force: boolean,
  label: (job: TrainingJob) => string,
): void {
  const lines = jobs.flatMap((job) => {
    const f = freshnessOf(stale, job.id, force);
    return f ? [`  ${label(job)}: ${describeFreshness(f)}`] : [];
  });
  if (lines.length === 0) return;
  console.log('\nUp-to-date check (config, input files, trainer version, provider):');
  for (const line of lines) console.log(line);
}
