/**
 * The classical arm under the job matrix: a toggle that shows one "classical" row per dose
 * (baseline / dense / sparse, as the matrix), each cell with its state, iteration, data-fit
 * error and its live error curve; Reconstruct runs the selected (dose, view) — or every one
 * when the selection is not a single job — and Cancel stops after the current iteration.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { VIEW_NAMES, type ViewName } from '../../../shared/study';
import { call, onEvent } from '../api-client';
import { errorText } from '../errors';
import {
  type ClassicalCell,
  type ClassicalCells,
  cellsFromListing,
  foldClassical,
  sparklinePath,
} from '../lib/classical';
import { formatDose } from '../lib/format';
import type { Roots } from '../stores/settings';

const VIEWS: ViewName[] = [...VIEW_NAMES];

interface Props {
  roots: Roots | null;
  doses: number[];
  /** The one job selected in the matrix, if exactly one. */
  focused: { dose: number; view: ViewName } | null;
}

export function ClassicalRow({ roots, doses, focused }: Props) {
  const [shown, setShown] = useState(false);
  const [cells, setCells] = useState<ClassicalCells>(new Map());
  const [runId, setRunId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [algorithm, setAlgorithm] = useState<'epie' | 'rpie' | 'lsqml'>('epie');
  const [iterations, setIterations] = useState(100);
  const [probeUpdate, setProbeUpdate] = useState(true);
  const [resume, setResume] = useState(false);

  /** Progress events seen; a listing requested before the latest event is older than it. */
  const eventCount = useRef(0);
  const load = useCallback(async () => {
    if (!roots) return;
    const seen = eventCount.current;
    try {
      const g = await call('getClassical', { artifactRoot: roots.artifact });
      if (eventCount.current !== seen) return; // events overtook this listing; the run's end reloads
      setCells(cellsFromListing(g));
      setRunId(g.running?.runId ?? null);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [roots]);

  useEffect(() => {
    if (shown) void load();
  }, [shown, load]);

  /** Bumped when a job ends: its scores are in classical.json by then, so the row re-reads it. */
  const [ended, setEnded] = useState(0);
  useEffect(
    () =>
      onEvent('classicalProgress', (e) => {
        eventCount.current++;
        setCells((c) => foldClassical(c, e));
        if (e.state === 'running' || e.state === 'queued') setRunId(e.runId);
        else setEnded((n) => n + 1);
      }),
    [],
  );
  useEffect(() => {
    if (ended > 0) void load();
  }, [ended, load]);

  const running = [...cells.values()].some((c) => c.state === 'running' || c.state === 'queued');

  const start = async () => {
    if (!roots) return;
    try {
      const r = await call('reconstructClassical', {
        phaseCRoot: roots.phaseC,
        phaseDRoot: roots.phaseD,
        artifactRoot: roots.artifact,
        dose: focused?.dose ?? null,
        view: focused?.view ?? null,
        algorithm,
        iterations,
        probeUpdate,
        resume,
      });
      setRunId(r.runId);
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const cancel = async () => {
    try {
      await call('cancelClassical', runId ? { runId } : {});
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section className="classical" aria-label="Classical arm">
      <label className="classical-toggle">
        <input type="checkbox" checked={shown} onChange={(e) => setShown(e.target.checked)} /> Classical row (
        {algorithm} without training, scored like PtychoPINN)
      </label>
      {shown && (
        <>
          <table className="matrix classical-matrix" aria-label="Classical reconstruction">
            <tbody>
              {doses.map((dose) => (
                <tr key={dose}>
                  <th scope="row">classical {formatDose(dose)}</th>
                  {VIEWS.map((view) => {
                    const c = [...cells.values()].find((x) => x.dose === dose && x.view === view);
                    return (
                      <td key={view}>
                        <ClassicalCellBody cell={c ?? null} view={view} />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          <div className="classical-controls">
            <label>
              algorithm{' '}
              <select value={algorithm} onChange={(e) => setAlgorithm(e.target.value as 'epie' | 'rpie' | 'lsqml')}>
                <option value="epie">ePIE</option>
                <option value="rpie">rPIE</option>
                <option value="lsqml">LSQML</option>
              </select>
            </label>
            <label>
              iterations{' '}
              <input
                type="number"
                min={1}
                max={10000}
                value={iterations}
                onChange={(e) => setIterations(Math.max(1, Math.min(10_000, Math.round(Number(e.target.value) || 1))))}
              />
            </label>
            <label>
              <input type="checkbox" checked={probeUpdate} onChange={(e) => setProbeUpdate(e.target.checked)} /> refine
              the probe
            </label>
            <label title="continue each job from its recon.npz (a cancelled run, or more iterations with the same settings)">
              <input type="checkbox" checked={resume} onChange={(e) => setResume(e.target.checked)} /> resume
            </label>
            <button type="button" disabled={!roots || running} onClick={() => void start()}>
              Reconstruct {focused ? `dose ${formatDose(focused.dose)} ${focused.view}` : 'all'}
            </button>
            <button type="button" disabled={!running} onClick={() => void cancel()}>
              Cancel
            </button>
          </div>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </>
      )}
    </section>
  );
}

function ClassicalCellBody({ cell, view }: { cell: ClassicalCell | null; view: ViewName }) {
  const state = cell?.state ?? null;
  const path = cell ? sparklinePath(cell.errors, 80, 18) : '';
  const last = cell?.errors.at(-1);
  const skill = cell?.row?.phase_mae_skill;
  return (
    <span className={`cell-body state-${state ?? 'ready'}`} data-classical={cell?.jobId}>
      <span className="cell-title">{view}</span>
      <span className="cell-state">
        <span className={`badge badge-${state ?? 'ready'}`}>{state ?? 'not run'}</span>
        {cell && cell.iteration > 0 && (
          <span className="cell-detail">
            {cell.iteration}
            {cell.iterations ? `/${cell.iterations}` : ''} · error {last?.toExponential(2)}
            {skill != null && state !== 'running' ? ` · phase skill ${skill.toFixed(3)}` : ''}
          </span>
        )}
        {cell?.message && state !== 'running' && <span className="cell-detail">{cell.message}</span>}
      </span>
      {path && (
        <svg width="80" height="18" role="img" aria-label={`${cell?.jobId} data-fit error per iteration`}>
          <path d={path} fill="none" stroke="currentColor" strokeWidth="1" />
        </svg>
      )}
    </span>
  );
}
