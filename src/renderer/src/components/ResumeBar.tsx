/**
 * Resume for stopped jobs: when the selection holds cancelled, interrupted, failed or
 * diverged jobs whose checkpoint is on disk, one button continues them (the engine's
 * `resumeJobs`, the same path as `train --resume`); each such job's stop reason is listed.
 */
import { cellName, type JobCell } from '../model';

interface Props {
  selected: JobCell[];
  busy: boolean;
  onResume(ids: string[]): void;
}

export function ResumeBar({ selected, busy, onResume }: Props) {
  const stopped = selected.filter((c) => c.stop);
  if (stopped.length === 0) return null;
  const resumable = stopped.filter((c) => c.resumable);
  return (
    <section className="resume-bar" aria-label="Resume stopped jobs">
      <ul>
        {stopped.map((c) => (
          <li key={c.id}>
            <strong>{cellName(c)}</strong>: {c.stop}
            {c.resumable ? ' · checkpoint on disk' : ' · no checkpoint: Run starts it over'}
          </li>
        ))}
      </ul>
      <button
        type="button"
        disabled={busy || resumable.length === 0}
        onClick={() => onResume(resumable.map((c) => c.id))}
        title="Continue from the last checkpoint with the knobs the job was trained with; the curve continues"
      >
        Resume {resumable.length > 1 ? `${resumable.length} jobs` : ''}
      </button>
    </section>
  );
}
