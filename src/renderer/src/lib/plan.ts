/**
 * One plan line per selected job: up to date, or why it will run and what it will cost —
 * groups (train / validation), steps per epoch × epochs = total steps, and the time that
 * takes at the measured step rate, when the engine could work them out.
 */
import { describeFreshness, type JobFreshness } from '../../../shared/fingerprint';
import { formatEta } from './format';

export function planLine(f: JobFreshness): string {
  if (f.upToDate || !f.plan) return describeFreshness(f);
  const p = f.plan;
  const cost =
    `${p.groups} groups (${p.trainGroups} train / ${p.validationGroups} validation), batch ${p.batchSize} · ` +
    `${p.stepsPerEpoch} steps/epoch × ${p.epochs} epochs = ${p.totalSteps} steps · ` +
    `≈ ${formatEta(p.seconds)} at ${p.secondsPerStep.toPrecision(3)} s/step (${p.rateSource})`;
  return `will run: ${f.reasons.join('; ')} — ${cost}`;
}
