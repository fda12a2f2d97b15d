/**
 * The chart with its controls. Which jobs are drawn: the matrix selection, or every job with
 * a curve when nothing is selected, narrowed by the filter chips and the run search; the
 * legend hides a job on click and isolates it on Alt+click. Above the chart: the scalar, the
 * x axis, log scale, smoothing with "ignore outliers", and downloads (CSV, JSON, PNG).
 */
import { type ReactNode, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { TrainEvent } from '../../../shared/events';
import { availableScalars, scalarLabel, X_AXES, type XAxisKind } from '../lib/build-series';
import { jobColor, withAlpha } from '../lib/colors';
import { formatDose } from '../lib/format';
import { cellName, type JobCell } from '../model';
import type { CurveStore } from '../stores/curves';
import type { Filters } from '../stores/study';
import { chartJobIds, legendClick } from '../lib/chart-jobs';
import { type ChartExport, type ChartJob, LossChart } from './LossChart';

interface Props {
  store: CurveStore;
  cells: JobCell[];
  doses: number[];
  selectedIds: ReadonlySet<string>;
  filters: Filters;
  smoothing: number;
  ignoreOutliers: boolean;
  xAxis: XAxisKind;
  logScale: boolean;
  theme: 'light' | 'dark';
  onSmoothing(v: number): void;
  onIgnoreOutliers(v: boolean): void;
  onXAxis(v: XAxisKind): void;
  onLogScale(v: boolean): void;
  /** Shown beside the chart (the reconstruction previews). */
  aside?: ReactNode;
  /** A job's earlier attempts, for the overlay (absent: no overlay offered). */
  loadAttempts?(jobId: string): Promise<{ attemptId: string; label: string; events: TrainEvent[] }[]>;
}

export function CurvesPanel(p: Props) {
  const { store, cells, doses, selectedIds, filters, theme } = p;
  const chart = useRef<ChartExport>(null);
  const [search, setSearch] = useState('');
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const [scalar, setScalar] = useState('loss');
  // Re-derive the job list only when the set of jobs with curves (or their scalars) changes.
  const curvesKey = useSyncExternalStore(
    (cb) => store.subscribe(cb),
    () =>
      store
        .jobIds()
        .filter((id) => {
          const c = store.get(id);
          return !!c && c.train.length + c.val.length > 0;
        })
        .map((id) => `${id}:${[...(store.get(id)?.scalars.keys() ?? [])].join('+')}`)
        .join(','),
  );
  const withCurves = useMemo(
    () =>
      new Set(
        curvesKey
          .split(',')
          .filter(Boolean)
          .map((s) => s.slice(0, s.indexOf(':'))),
      ),
    [curvesKey],
  );
  const listed = chartJobIds(cells, withCurves, selectedIds, filters, search);
  const byId = new Map(cells.map((c) => [c.id, c]));
  // A string key so the chart is rebuilt only when the drawn jobs change, not when a
  // cell's progress ticks (that would recreate the chart 20 times a second).
  const jobsKey = listed
    .filter((id) => !hidden.has(id))
    .map((id) => {
      const c = byId.get(id) as JobCell;
      return `${id}\t${cellName(c)}\t${jobColor(c.view, c.dose, theme, doses)}`;
    })
    .join('\n');
  // Earlier attempts of the shown jobs, read when the overlay is on (and again when a job settles).
  const [withAttempts, setWithAttempts] = useState(false);
  const [attempts, setAttempts] = useState<{ jobId: string; id: string; label: string }[]>([]);
  const settled = cells.map((c) => `${c.id}:${c.state}`).join(',');
  const shownIds = jobsKey ? jobsKey.split('\n').map((l) => l.slice(0, l.indexOf('\t'))) : [];
  const shownKey = shownIds.join(',');
  const loadAttempts = p.loadAttempts;
  // biome-ignore lint/correctness/useExhaustiveDependencies: settled (a job's state changed) is a re-read trigger
  useEffect(() => {
    if (!withAttempts || !loadAttempts || !shownKey) {
      setAttempts([]);
      return;
    }
    let live = true;
    void Promise.all(
      shownKey.split(',').map(async (jobId) => {
        const list = await loadAttempts(jobId).catch(() => []);
        return list.map((a) => {
          const id = `${jobId}@${a.attemptId}`;
          store.replace(id, a.events);
          return { jobId, id, label: a.label };
        });
      }),
    ).then((lists) => {
      if (live) setAttempts(lists.flat());
    });
    return () => {
      live = false;
    };
  }, [withAttempts, loadAttempts, shownKey, settled, store]);
  const attemptsKey = attempts.map((a) => `${a.jobId}\t${a.id}\t${a.label}`).join('\n');
  const jobs: ChartJob[] = useMemo(() => {
    const main = jobsKey
      ? jobsKey.split('\n').map((line) => {
          const [id, label, color] = line.split('\t');
          return { id, label, color };
        })
      : [];
    const extra = attemptsKey
      ? attemptsKey.split('\n').flatMap((line) => {
          const [jobId, id, label] = line.split('\t');
          const owner = main.find((j) => j.id === jobId);
          // an earlier attempt: the job's colour, faded
          return owner ? [{ id, label: `${owner.label} · ${label}`, color: withAlpha(owner.color, 0.4) }] : [];
        })
      : [];
    return [...main, ...extra];
  }, [jobsKey, attemptsKey]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: curvesKey is what changes when a job gains a scalar
  const scalars = useMemo(() => availableScalars(listed.map((id) => store.get(id))), [curvesKey, listed.join(',')]);
  const shownScalar = scalars.includes(scalar) ? scalar : 'loss';
  const scope =
    selectedIds.size > 0
      ? `${selectedIds.size} selected job(s)`
      : 'all jobs with curves — select cells in the matrix to narrow';
  const filtered = filters.dose !== null || filters.view !== null || filters.gridsize !== null;

  return (
    <section className="curves" aria-label="Training curves">
      <div className="curves-controls">
        <h2 className="visually-hidden">Curves</h2>
        <label>
          Scalar{' '}
          <select value={shownScalar} onChange={(e) => setScalar(e.target.value)}>
            {scalars.map((s) => (
              <option key={s} value={s}>
                {scalarLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          X axis{' '}
          <select value={p.xAxis} onChange={(e) => p.onXAxis(e.target.value as XAxisKind)}>
            {X_AXES.map((a) => (
              <option key={a.key} value={a.key}>
                {a.label}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={p.logScale} onChange={(e) => p.onLogScale(e.target.checked)} />
          Log scale
        </label>
        <span className="downloads">
          <span aria-hidden="true">⤓</span>
          {(['csv', 'json', 'png'] as const).map((k) => (
            <button
              key={k}
              type="button"
              className="link"
              aria-label={`Download ${k.toUpperCase()}`}
              onClick={() => chart.current?.download(k)}
            >
              {k.toUpperCase()}
            </button>
          ))}
        </span>
        <label className="slider">
          Smoothing
          <input
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={p.smoothing}
            aria-valuetext={p.smoothing === 0 ? 'off' : `EMA weight ${p.smoothing.toFixed(2)}`}
            onChange={(e) => p.onSmoothing(Number(e.target.value))}
          />
          <output>{p.smoothing === 0 ? 'off' : p.smoothing.toFixed(2)}</output>
        </label>
        <label
          className="check"
          title="Leave points more than 5 robust standard deviations (MAD) from their neighbourhood's median out of the smoothed line; the raw line still shows them"
        >
          <input type="checkbox" checked={p.ignoreOutliers} onChange={(e) => p.onIgnoreOutliers(e.target.checked)} />
          Ignore outliers
        </label>
        {p.loadAttempts && (
          <label className="check" title="Overlay each shown job's earlier runs (every run keeps its curve)">
            <input type="checkbox" checked={withAttempts} onChange={(e) => setWithAttempts(e.target.checked)} />
            Earlier attempts
          </label>
        )}
      </div>
      <div className="legend-bar">
        <input
          type="search"
          className="run-search"
          placeholder="Filter runs"
          aria-label="Filter runs"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <ul className="legend" aria-label="Legend: click hides a run, Alt+click shows only it">
          {listed.map((id) => {
            const c = byId.get(id) as JobCell;
            const off = hidden.has(id);
            return (
              <li key={id}>
                <button
                  type="button"
                  className="legend-item"
                  aria-pressed={!off}
                  aria-label={`${cellName(c)} curve`}
                  title={`${cellName(c)} — click: hide or show · Alt+click: show only this run`}
                  onClick={(e) => setHidden(legendClick(hidden, listed, id, e.altKey))}
                >
                  <i
                    style={{
                      background: off ? 'transparent' : jobColor(c.view, c.dose, theme, doses),
                      borderColor: jobColor(c.view, c.dose, theme, doses),
                    }}
                  />
                  {formatDose(c.dose)} {c.view}
                </button>
              </li>
            );
          })}
          {listed.length === 0 && (
            <li className="muted">
              {withCurves.size === 0
                ? 'No curves yet: run a job.'
                : 'No run matches the selection, filters and search.'}
            </li>
          )}
          <li className="muted legend-note" title="thin: raw · bold: smoothed · dashed with dots: validation per epoch">
            {scope}
            {filtered ? ' · filter chips applied' : ''}
            {jobs.length > 0 ? ' · thin: raw, bold: smoothed, dashed ●: validation' : ''}
          </li>
        </ul>
      </div>
      <div className="curves-body">
        <LossChart
          ref={chart}
          store={store}
          jobs={jobs}
          scalar={shownScalar}
          xAxis={p.xAxis}
          smoothing={p.smoothing}
          ignoreOutliers={p.ignoreOutliers}
          logScale={p.logScale}
          theme={theme}
        />
        {p.aside}
      </div>
    </section>
  );
}
