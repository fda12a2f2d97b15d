/**
 * The classical arm under the job matrix: a toggle that shows one "classical" row per dose
 * (baseline / dense / sparse, as the matrix), each cell with its state, iteration, data-fit
 * error and its live error curve, and Resume where a job stopped short. Reconstruct queues the
 * selected (dose, view) — or every one when the selection is not a single job — in the same
 * queue as training runs, with the algorithm, iterations, probe update and (LSQML) TV prior set
 * here; a refused value is named and disables Reconstruct. Cancel takes queued runs out and
 * stops a running one after its current iteration. All calls go through the controller.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ClassicalAlgorithm } from '../../../shared/classical';
import { VIEW_NAMES, type ViewName } from '../../../shared/study';
import type { Controller } from '../controller';
import { errorText } from '../errors';
import {
  type ClassicalCell,
  type ClassicalCells,
  type ClassicalSettings,
  cellsFromListing,
  checkIterations,
  checkTv,
  classicalInput,
  DEFAULT_CLASSICAL_SETTINGS,
  foldClassical,
  reconstructCommand,
  settingsErrors,
  sparklinePath,
} from '../lib/classical';
import { formatDose } from '../lib/format';
import type { Roots } from '../stores/settings';

const VIEWS: ViewName[] = [...VIEW_NAMES];
const ALGORITHMS: [ClassicalAlgorithm, string][] = [
  ['epie', 'ePIE'],
  ['rpie', 'rPIE'],
  ['lsqml', 'LSQML'],
];

interface Props {
  roots: Roots | null;
  doses: number[];
  /** The one job selected in the matrix, if exactly one. */
  focused: { dose: number; view: ViewName } | null;
  api: Controller['classical'];
}

const busy = (c: ClassicalCell | undefined) => c?.state === 'running' || c?.state === 'queued';

export function ClassicalRow({ roots, doses, focused, api }: Props) {
  const [shown, setShown] = useState(false);
  const [cells, setCells] = useState<ClassicalCells>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [settings, setSettings] = useState<ClassicalSettings>(DEFAULT_CLASSICAL_SETTINGS);
  const set = (p: Partial<ClassicalSettings>) => setSettings((s) => ({ ...s, ...p }));

  /** Progress events seen; a listing requested before the latest event is older than it. */
  const eventCount = useRef(0);
  const load = useCallback(async () => {
    const seen = eventCount.current;
    try {
      const g = await api.list();
      if (!g || eventCount.current !== seen) return; // events overtook this listing; the run's end reloads
      setCells(cellsFromListing(g));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [api]);

  useEffect(() => {
    if (shown && roots) void load();
  }, [shown, load, roots]);

  /** Bumped when a job ends: its scores are in classical.json by then, so the row re-reads it. */
  const [ended, setEnded] = useState(0);
  useEffect(
    () =>
      api.onProgress((e) => {
        eventCount.current++;
        setCells((c) => foldClassical(c, e));
        if (e.state !== 'running' && e.state !== 'queued') setEnded((n) => n + 1);
      }),
    [api],
  );
  useEffect(() => {
    if (ended > 0) void load();
  }, [ended, load]);

  const all = [...cells.values()];
  const anyBusy = all.some(busy);
  const targets = focused ? all.filter((c) => c.dose === focused.dose && c.view === focused.view) : all;
  const targetBusy = targets.some(busy);
  const refused = settingsErrors(settings);
  const iterationsCheck = checkIterations(settings.iterations);
  const tvCheck = checkTv(settings.tv);
  const lsqml = settings.algorithm === 'lsqml';

  const act = async (what: () => Promise<unknown>) => {
    try {
      await what();
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <section className="classical" aria-label="Classical arm">
      <label className="classical-toggle">
        <input type="checkbox" checked={shown} onChange={(e) => setShown(e.target.checked)} /> Classical row (
        {settings.algorithm} without training, scored like PtychoPINN)
      </label>
      {shown && (
        <>
          <table className="matrix classical-matrix" aria-label="Classical reconstruction">
            <tbody>
              {doses.map((dose) => (
                <tr key={dose}>
                  <th scope="row">classical {formatDose(dose)}</th>
                  {VIEWS.map((view) => {
                    const c = all.find((x) => x.dose === dose && x.view === view);
                    return (
                      <td key={view}>
                        <ClassicalCellBody
                          cell={c ?? null}
                          view={view}
                          onResume={() => void act(() => api.resume({ dose, view }))}
                        />
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          <fieldset className="classical-controls" aria-label="Classical settings">
            <label className="knob" title="reconstruct --algorithm">
              <span>algorithm</span>
              <select
                value={settings.algorithm}
                onChange={(e) => set({ algorithm: e.target.value as ClassicalAlgorithm })}
              >
                {ALGORITHMS.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <Field
              id="classical-iterations"
              label="iterations"
              title="reconstruct --iterations: sweeps over all positions"
              value={settings.iterations}
              error={iterationsCheck.ok ? null : iterationsCheck.error}
              onChange={(iterations) => set({ iterations })}
            />
            <label className="knob check" title="reconstruct --probe-update on|off">
              <input
                type="checkbox"
                checked={settings.probeUpdate}
                onChange={(e) => set({ probeUpdate: e.target.checked })}
              />{' '}
              probe update
            </label>
            {lsqml && (
              <Field
                id="classical-tv"
                label="TV weight"
                title="reconstruct --tv: total-variation prior on the object amplitude, weight at 1e5 photons per pattern (blank or 0: none)"
                placeholder="0"
                value={settings.tv}
                error={tvCheck.ok ? null : tvCheck.error}
                onChange={(tv) => set({ tv })}
              />
            )}
            <label
              className="knob check"
              title="reconstruct --resume: continue each job from its recon.npz (same settings, more iterations)"
            >
              <input type="checkbox" checked={settings.resume} onChange={(e) => set({ resume: e.target.checked })} />{' '}
              resume
            </label>
            <button
              type="button"
              disabled={!roots || refused.length > 0 || targetBusy}
              title={
                refused.length
                  ? 'Fix the values marked above first'
                  : targetBusy
                    ? 'already queued or running'
                    : 'waits in the run queue behind any training or classical run'
              }
              onClick={() => void act(() => api.start(classicalInput(settings, focused)))}
            >
              Reconstruct {focused ? `dose ${formatDose(focused.dose)} ${focused.view}` : 'all'}
            </button>
            <button type="button" disabled={!anyBusy} onClick={() => void act(() => api.cancel())}>
              Cancel
            </button>
          </fieldset>
          {roots && (
            <details className="cli">
              <summary>Same reconstruction from a terminal</summary>
              <code>{reconstructCommand(roots, settings, focused)}</code>
            </details>
          )}
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

function Field(p: {
  id: string;
  label: string;
  title: string;
  value: string;
  placeholder?: string;
  error: string | null;
  onChange(v: string): void;
}) {
  const errorId = `${p.id}-error`;
  return (
    <label className="knob" title={p.title}>
      <span>{p.label}</span>
      <input
        type="text"
        className="knob-value"
        inputMode="decimal"
        placeholder={p.placeholder}
        value={p.value}
        aria-invalid={p.error !== null}
        aria-describedby={p.error ? errorId : undefined}
        onChange={(e) => p.onChange(e.target.value)}
      />
      {p.error && (
        <span className="knob-error" id={errorId} role="alert">
          {p.error}
        </span>
      )}
    </label>
  );
}

function ClassicalCellBody({ cell, view, onResume }: { cell: ClassicalCell | null; view: ViewName; onResume(): void }) {
  const state = cell?.state ?? null;
  const path = cell ? sparklinePath(cell.errors, 80, 18) : '';
  const last = cell?.errors.at(-1);
  const skill = cell?.row?.phase_mae_skill;
  const running = state === 'running' || state === 'queued';
  return (
    <span className={`cell-body state-${state ?? 'ready'}`} data-classical={cell?.jobId}>
      <span className="cell-title">{view}</span>
      <span className="cell-state">
        <span className={`badge badge-${state ?? 'ready'}`}>{state ?? 'not run'}</span>
        {cell && cell.iteration > 0 && (
          <span className="cell-detail">
            {cell.iteration}
            {cell.iterations ? `/${cell.iterations}` : ''} · error {last?.toExponential(2)}
            {skill != null && !running ? ` · phase skill ${skill.toFixed(3)}` : ''}
          </span>
        )}
        {cell?.message && !running && <span className="cell-detail">{cell.message}</span>}
      </span>
      {path && (
        <svg width="80" height="18" role="img" aria-label={`${cell?.jobId} data-fit error per iteration`}>
          <path d={path} fill="none" stroke="currentColor" strokeWidth="1" />
        </svg>
      )}
      {cell?.resumable && !running && (
        <button type="button" className="small" onClick={onResume} aria-label={`Resume ${cell.jobId}`}>
          Resume
        </button>
      )}
    </span>
  );
}
