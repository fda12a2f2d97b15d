/**
 * The chart with its controls: which jobs are drawn (the selection, or every job with a
 * curve when nothing is selected), log scale, the smoothing slider, and a legend whose
 * swatches match the lines.
 */
import { useMemo, useSyncExternalStore } from 'react';
import { jobColor } from '../lib/colors';
import { cellName, type JobCell } from '../model';
import type { CurveStore } from '../stores/curves';
import { type ChartJob, LossChart } from './LossChart';

interface Props {
  store: CurveStore;
  cells: JobCell[];
  selectedIds: ReadonlySet<string>;
  smoothing: number;
  logScale: boolean;
  theme: 'light' | 'dark';
  onSmoothing(v: number): void;
  onLogScale(v: boolean): void;
}

export function CurvesPanel({ store, cells, selectedIds, smoothing, logScale, theme, onSmoothing, onLogScale }: Props) {
  // Re-derive the job list only when the set of jobs with curves changes.
  const withCurves = useSyncExternalStore(
    (cb) => store.subscribe(cb),
    () =>
      store
        .jobIds()
        .filter((id) => {
          const c = store.get(id);
          return !!c && c.train.length + c.val.length > 0;
        })
        .join(','),
  );
  const idsKey = [...selectedIds].sort().join(',');
  // A string key so the chart is rebuilt only when the drawn jobs change, not when a
  // cell's progress ticks (that would recreate the chart 20 times a second).
  const have = new Set(withCurves.split(',').filter(Boolean));
  const chosen = idsKey ? new Set(idsKey.split(',')) : null;
  const jobsKey = cells
    .filter((c) => have.has(c.id) && (!chosen || chosen.has(c.id)))
    .map((c) => `${c.id}\t${cellName(c)}\t${jobColor(c.view, c.dose, theme)}`)
    .join('\n');
  const jobs: ChartJob[] = useMemo(
    () =>
      jobsKey
        ? jobsKey.split('\n').map((line) => {
            const [id, label, color] = line.split('\t');
            return { id, label, color };
          })
        : [],
    [jobsKey],
  );

  return (
    <section className="curves" aria-label="Loss curves">
      <div className="curves-controls">
        <h2>Loss curves</h2>
        <span className="muted">{idsKey ? 'selected jobs' : 'all jobs with curves'}</span>
        <label className="check">
          <input type="checkbox" checked={logScale} onChange={(e) => onLogScale(e.target.checked)} />
          Log scale
        </label>
        <label className="slider">
          Smoothing
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={smoothing}
            aria-valuetext={smoothing === 0 ? 'off' : `EMA weight ${smoothing.toFixed(2)}`}
            onChange={(e) => onSmoothing(Number(e.target.value))}
          />
          <output>{smoothing === 0 ? 'off' : smoothing.toFixed(2)}</output>
        </label>
      </div>
      <ul className="legend" aria-label="Legend">
        {jobs.map((j) => (
          <li key={j.id}>
            <i style={{ background: j.color }} />
            {j.label}
          </li>
        ))}
        {jobs.length > 0 && <li className="muted">solid: train (faint = raw) · dashed ●: validation per epoch</li>}
      </ul>
      <LossChart store={store} jobs={jobs} smoothing={smoothing} logScale={logScale} theme={theme} />
    </section>
  );
}
