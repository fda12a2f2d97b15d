/**
 * The run queue: what is queued or running — training jobs and classical reconstructions, in
 * the order the one run queue takes them — with progress, ETA and a cancel button each, plus
 * Cancel all. Finished jobs of this session stay listed (most recent first) with their outcome
 * so a run never silently disappears.
 */
import type { ClassicalCell } from '../lib/classical';
import { formatEta, formatLoss } from '../lib/format';
import type { QueueItem } from '../lib/queue';
import { cellName, etaSeconds, type JobCell } from '../model';

interface Props {
  items: QueueItem[];
  onCancel(ids: string[] | 'all'): void;
  /** Cancel one classical run (a queued one leaves the queue), or (null) every one of the study. */
  onCancelClassical(runId: string | null): void;
}

const live = (state: string | null) => state === 'queued' || state === 'running';

export function RunQueue({ items, onCancel, onCancelClassical }: Props) {
  const training = items.some((i) => i.kind === 'training' && live(i.cell.state));
  const classical = items.some((i) => i.kind === 'classical' && live(i.cell.state));
  return (
    <section className="queue" aria-label="Run queue">
      <header>
        <h2>Run queue</h2>
        <button
          type="button"
          onClick={() => {
            if (training) onCancel('all');
            if (classical) onCancelClassical(null);
          }}
          disabled={!training && !classical}
        >
          Cancel all
        </button>
      </header>
      {items.length === 0 && <p className="muted">Nothing queued. Select jobs and press Run.</p>}
      <ol>
        {items.map((i) =>
          i.kind === 'training' ? (
            <TrainingItem key={`training:${i.id}`} j={i.cell} onCancel={() => onCancel([i.id])} />
          ) : (
            <ClassicalItem
              key={`classical:${i.id}`}
              c={i.cell}
              onCancel={i.runId === null ? null : () => onCancelClassical(i.runId)}
            />
          ),
        )}
      </ol>
    </section>
  );
}

function TrainingItem({ j, onCancel }: { j: JobCell; onCancel(): void }) {
  const p = j.progress;
  const frac = p?.step != null && p.total_steps ? Math.min(1, (p.step + 1) / p.total_steps) : null;
  return (
    <li className={`qitem state-${j.state}`} data-testid={`queue-${j.id}`}>
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
      {live(j.state) && (
        <button type="button" className="small" onClick={onCancel} aria-label={`Cancel ${cellName(j)}`}>
          Cancel
        </button>
      )}
    </li>
  );
}

/** A classical job: labelled as such, with its iteration progress; Cancel acts on the run holding it. */
function ClassicalItem({ c, onCancel }: { c: ClassicalCell; onCancel: (() => void) | null }) {
  const name = `classical dose ${c.dose} ${c.view}`;
  const state = c.state ?? 'queued';
  const last = c.errors.at(-1);
  const iterations = c.iterations ? `/${c.iterations}` : '';
  return (
    <li className={`qitem qitem-classical state-${state}`} data-testid={`queue-${c.jobId}`}>
      <span className="qname">
        <span className="qkind">classical</span> dose {c.dose} {c.view}
      </span>
      <span className={`badge badge-${state}`}>{state}</span>
      {state === 'running' && (
        <>
          <progress
            max={c.iterations || 1}
            value={c.iterations ? Math.min(c.iteration, c.iterations) : undefined}
            aria-label={`progress ${name}`}
          />
          <span className="muted">
            iteration {c.iteration}
            {iterations}
          </span>
        </>
      )}
      {state === 'queued' && c.iterations ? <span className="muted">{c.iterations} iterations</span> : null}
      {state === 'done' && last !== undefined && (
        <span className="muted">
          {c.iteration}
          {iterations} · error {last.toExponential(2)}
        </span>
      )}
      {(state === 'failed' || state === 'interrupted' || state === 'cancelled') && c.message && (
        <span className={state === 'cancelled' ? 'muted qmessage' : 'error-text'} title={c.message}>
          {c.message}
        </span>
      )}
      {live(state) && (
        <button
          type="button"
          className="small"
          disabled={onCancel === null}
          onClick={() => onCancel?.()}
          aria-label={`Cancel ${name}`}
          title={
            onCancel
              ? 'cancels its reconstruction run: a queued run leaves the queue, a running one stops after its current iteration'
              : 'reading the run queue…'
          }
        >
          Cancel
        </button>
      )}
    </li>
  );
}
