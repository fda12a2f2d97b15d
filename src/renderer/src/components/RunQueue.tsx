/**
 * The run queue: what is queued or running, with progress, ETA and a cancel button each,
 * plus Cancel all. Finished jobs of this session stay listed (most recent first) with
 * their outcome so a run never silently disappears.
 */
import { formatEta, formatLoss } from '../lib/format';
import { cellName, etaSeconds, type JobCell } from '../model';

interface Props {
  jobs: JobCell[];
  onCancel(ids: string[] | 'all'): void;
}

export function RunQueue({ jobs, onCancel }: Props) {
  const active = jobs.filter((j) => j.state === 'queued' || j.state === 'running');
  return (
    <section className="queue" aria-label="Run queue">
      <header>
        <h2>Run queue</h2>
        <button type="button" onClick={() => onCancel('all')} disabled={active.length === 0}>
          Cancel all
        </button>
      </header>
      {jobs.length === 0 && <p className="muted">Nothing queued. Select jobs and press Run.</p>}
      <ol>
        {jobs.map((j) => {
          const p = j.progress;
          const frac = p?.step != null && p.total_steps ? Math.min(1, (p.step + 1) / p.total_steps) : null;
          return (
            <li key={j.id} className={`qitem state-${j.state}`} data-testid={`queue-${j.id}`}>
              <span className="qname">{cellName(j)}</span>
              <span className={`badge badge-${j.state}`}>{j.state}</span>
              {j.state === 'running' && (
                <>
                  <progress max={1} value={frac ?? undefined} aria-label={`progress ${cellName(j)}`} />
                  <span className="muted">
                    {p?.epoch != null ? `epoch ${p.epoch + 1}${p.total_epochs ? `/${p.total_epochs}` : ''}` : ''}
                    {etaSeconds(j) !== null ? ` · ETA ${formatEta(etaSeconds(j))}` : ''}
                  </span>
                </>
              )}
              {j.state === 'done' && <span className="muted">final loss {formatLoss(j.finalLoss)}</span>}
              {(j.state === 'failed' || j.state === 'interrupted' || j.state === 'diverged') && j.reason && (
                <span className="error-text" title={j.reason}>
                  {j.reason}
                </span>
              )}
              {(j.state === 'queued' || j.state === 'running') && (
                <button
                  type="button"
                  className="small"
                  onClick={() => onCancel([j.id])}
                  aria-label={`Cancel ${cellName(j)}`}
                >
                  Cancel
                </button>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
