/**
 * The classical arm under the job matrix: a toggle that shows one "classical" row per dose
 * (baseline / dense / sparse, as the matrix), each cell with its state, iteration, data-fit
 * error and its live error curve, and Resume where a job stopped short. Reconstruct queues the
 * selected (dose, view) — or every one when the selection is not a single job — in the same
 * queue as training runs, with the algorithm, iterations, probe update and (LSQML) TV prior set
 * here; a refused value is named and disables Reconstruct. Cancel takes queued runs out and
 * stops a running one after its current iteration. The settings are kept per study (artifact
 * root) across reloads. All calls go through the controller; the jobs come from the feed the
 * run queue panel shares.
 */
import { useEffect, useState } from 'react';
import type { ClassicalAlgorithm } from '../../../shared/classical';
import { VIEW_NAMES, type ViewName } from '../../../shared/study';
import type { Controller } from '../controller';
import { errorText } from '../errors';
import {
  browserStorage,
  type ClassicalCell,
  type ClassicalSettings,
  checkIterations,
  checkTv,
  classicalInput,
  loadClassicalSettings,
  reconstructCommand,
  saveClassicalSettings,
  settingsErrors,
  sparklinePath,
} from '../lib/classical';
import { formatDose } from '../lib/format';
import type { Roots } from '../stores/settings';
import type { ClassicalFeed } from './useClassicalFeed';

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
  feed: ClassicalFeed;
}

const busy = (c: ClassicalCell | undefined) => c?.state === 'running' || c?.state === 'queued';

export function ClassicalRow({ roots, doses, focused, api, feed }: Props) {
  const [shown, setShown] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const error = actionError ?? feed.error;
  const study = roots?.artifact ?? null;
  const [settings, setSettings] = useState<ClassicalSettings>(() => loadClassicalSettings(browserStorage(), study));
  useEffect(() => setSettings(loadClassicalSettings(browserStorage(), study)), [study]);
  const set = (p: Partial<ClassicalSettings>) => {
    const next = { ...settings, ...p };
    setSettings(next);
    saveClassicalSettings(browserStorage(), study, next);
  };

  const all = [...feed.cells.values()];
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
      setActionError(null);
    } catch (e) {
      setActionError(errorText(e));
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
            {/* one grid: labels on row 1, controls on row 2 (one baseline), each refusal on a row of its own under its field */}
            <div className="classical-fields">
              <label
                className="field-label"
                htmlFor="classical-algorithm"
                title="reconstruct --algorithm"
                style={at(1, 1)}
              >
                algorithm
              </label>
              <select
                id="classical-algorithm"
                title="reconstruct --algorithm"
                style={at(1, 2)}
                value={settings.algorithm}
                onChange={(e) => set({ algorithm: e.target.value as ClassicalAlgorithm })}
              >
                {ALGORITHMS.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
              <Field
                id="classical-iterations"
                column={2}
                errorRow={3}
                label="iterations"
                title="reconstruct --iterations: sweeps over all positions"
                value={settings.iterations}
                error={iterationsCheck.ok ? null : iterationsCheck.error}
                onChange={(iterations) => set({ iterations })}
              />
              <label className="check field-check" title="reconstruct --probe-update on|off" style={at(3, 2)}>
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
                  column={4}
                  errorRow={iterationsCheck.ok ? 3 : 4}
                  label="TV weight"
                  title="reconstruct --tv: total-variation prior on the object amplitude, a MAP weight from the noise model (5e-5 recommended, with 100 iterations; blank or 0: none)"
                  placeholder="0"
                  value={settings.tv}
                  error={tvCheck.ok ? null : tvCheck.error}
                  onChange={(tv) => set({ tv })}
                />
              )}
            </div>
            <div className="classical-actions">
              <label
                className="check"
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
            </div>
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

/** A grid cell of the settings form: column `column` of row `row`. */
const at = (column: number | string, row: number) => ({ gridColumn: column, gridRow: row });

/** A text field in the settings grid: its label above it, its refusal on row `errorRow`, from its column rightwards. */
function Field(p: {
  id: string;
  column: number;
  errorRow: number;
  label: string;
  title: string;
  value: string;
  placeholder?: string;
  error: string | null;
  onChange(v: string): void;
}) {
  const errorId = `${p.id}-error`;
  return (
    <>
      <label className="field-label" htmlFor={p.id} title={p.title} style={at(p.column, 1)}>
        {p.label}
      </label>
      <input
        id={p.id}
        type="text"
        className="knob-value"
        title={p.title}
        style={at(p.column, 2)}
        inputMode="decimal"
        placeholder={p.placeholder}
        value={p.value}
        aria-invalid={p.error !== null}
        aria-describedby={p.error ? errorId : undefined}
        onChange={(e) => p.onChange(e.target.value)}
      />
      {p.error && (
        <span className="knob-error" id={errorId} role="alert" style={at(`${p.column} / -1`, p.errorRow)}>
          {p.error}
        </span>
      )}
    </>
  );
}

/**
 * One cell: its state, then one short line each for the iterations, the last data-fit error and
 * the phase skill (a narrow column never cuts them), its message in at most two lines, and the
 * error curve scaled to the cell. The cell's title holds every value in full.
 */
function ClassicalCellBody({ cell, view, onResume }: { cell: ClassicalCell | null; view: ViewName; onResume(): void }) {
  const state = cell?.state ?? null;
  const path = cell ? sparklinePath(cell.errors, 80, 18) : '';
  const last = cell?.errors.at(-1);
  const skill = cell?.row?.phase_mae_skill;
  const running = state === 'running' || state === 'queued';
  const progress =
    cell && cell.iteration > 0 ? `${cell.iteration}${cell.iterations ? `/${cell.iterations}` : ''}` : null;
  const message = cell?.message && !running ? cell.message : null;
  const full = [
    `${view}: ${state ?? 'not run'}`,
    progress && `iteration ${progress}`,
    progress && last !== undefined && `data-fit error ${last.toExponential(4)}`,
    skill != null && !running && `phase skill ${skill.toFixed(4)}`,
    message,
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <span className={`cell-body state-${state ?? 'ready'}`} data-classical={cell?.jobId} title={full}>
      <span className="cell-title">{view}</span>
      <span className="cell-state">
        <span className={`badge badge-${state ?? 'ready'}`}>{state ?? 'not run'}</span>
        {progress && <span className="cell-detail cell-iterations">{progress}</span>}
        {progress && last !== undefined && (
          <span className="cell-detail cell-error">error {last.toExponential(2)}</span>
        )}
        {skill != null && !running && <span className="cell-detail cell-skill">phase skill {skill.toFixed(3)}</span>}
        {message && <span className="cell-detail cell-message">{message}</span>}
      </span>
      {path && (
        <svg
          className="sparkline"
          viewBox="0 0 80 18"
          preserveAspectRatio="none"
          role="img"
          aria-label={`${cell?.jobId} data-fit error per iteration`}
        >
          <path d={path} fill="none" stroke="currentColor" strokeWidth="1" vectorEffect="non-scaling-stroke" />
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
