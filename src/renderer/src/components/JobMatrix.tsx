/**
 * The Phase E job matrix: doses as rows, baseline gs1 / dense gs2 / sparse gs2 as columns.
 * Mouse: click, ctrl/⌘-click, shift-click, row/column headers. Keyboard: arrows move,
 * shift+arrows extend, space/enter select (with ctrl to toggle), ctrl+A selects all.
 * Each cell is a toggle button named like `dose 1000 baseline gs1`; its state is its
 * description.
 */
import { type KeyboardEvent, type MouseEvent, useRef } from 'react';
import { jobId } from '../../../shared/study';
import { formatDose, formatEta, formatLoss } from '../lib/format';
import { clickCell, clickHeader, type Selection, selectAll } from '../lib/selection';
import { COLUMNS, cellName, etaSeconds, type JobCell } from '../model';

interface Props {
  doses: number[];
  cells: Map<string, JobCell>;
  selection: Selection;
  /** Cells outside the active filter chips are dimmed and cannot be selected. */
  visible: (cell: JobCell) => boolean;
  onSelect(sel: Selection): void;
}

export function JobMatrix({ doses, cells, selection, visible, onSelect }: Props) {
  const table = useRef<HTMLTableElement>(null);
  const grid = doses.map((d) =>
    COLUMNS.map((c) => {
      const id = jobId(d, c.view, c.gridsize);
      const cell = cells.get(id);
      return cell && visible(cell) ? id : '';
    }),
  );

  const anchorVisible = selection.anchor && grid.some((row) => row.includes(selection.anchor ?? ''));
  const tabStop = anchorVisible ? selection.anchor : (grid.flat().find(Boolean) ?? null);

  const mods = (e: MouseEvent | KeyboardEvent) => ({ ctrl: e.ctrlKey || e.metaKey, shift: e.shiftKey });

  const focusCell = (r: number, c: number) => {
    const btn = table.current?.querySelector<HTMLButtonElement>(`[data-r="${r}"][data-c="${c}"]`);
    btn?.focus();
  };

  const onKey = (e: KeyboardEvent<HTMLButtonElement>, r: number, c: number, id: string) => {
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const mv = moves[e.key];
    if (mv) {
      e.preventDefault();
      const nr = Math.min(doses.length - 1, Math.max(0, r + mv[0]));
      const nc = Math.min(COLUMNS.length - 1, Math.max(0, c + mv[1]));
      focusCell(nr, nc);
      const target = grid[nr][nc];
      if (e.shiftKey && target) onSelect(clickCell(selection, grid, target, { shift: true }));
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a') {
      e.preventDefault();
      onSelect(selectAll(grid.map((row) => row.filter(Boolean))));
      return;
    }
    if (e.key === 'Escape') {
      onSelect({ ids: new Set(), anchor: null });
      return;
    }
    if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      if (id) onSelect(clickCell(selection, grid, id, mods(e)));
    }
  };

  return (
    <table className="matrix" ref={table} aria-label="Job matrix">
      <thead>
        <tr>
          <th scope="col">
            <button
              type="button"
              className="hdr"
              onClick={(e) => onSelect(clickHeader(selection, grid.flat().filter(Boolean), mods(e)))}
              title="Select every job"
            >
              all
            </button>
          </th>
          {COLUMNS.map((col, ci) => (
            <th scope="col" key={col.view}>
              <button
                type="button"
                className="hdr"
                aria-label={`select column ${col.view} gs${col.gridsize}`}
                onClick={(e) => onSelect(clickHeader(selection, grid.map((row) => row[ci]).filter(Boolean), mods(e)))}
              >
                {col.view} <span className="muted">gs{col.gridsize}</span>
              </button>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {doses.map((dose, ri) => (
          <tr key={dose}>
            <th scope="row">
              <button
                type="button"
                className="hdr"
                aria-label={`select row dose ${dose}`}
                onClick={(e) => onSelect(clickHeader(selection, grid[ri].filter(Boolean), mods(e)))}
              >
                dose {formatDose(dose)}
              </button>
            </th>
            {COLUMNS.map((col, ci) => {
              const id = jobId(dose, col.view, col.gridsize);
              const cell = cells.get(id);
              if (!cell) return <td key={col.view} className="cell-empty" />;
              const shown = visible(cell);
              const selected = selection.ids.has(id);
              return (
                <td key={col.view}>
                  <button
                    type="button"
                    className={`cell state-${cell.state}${selected ? ' selected' : ''}${shown ? '' : ' filtered-out'}`}
                    data-r={ri}
                    data-c={ci}
                    data-job={id}
                    data-state={cell.state}
                    aria-label={cellName(cell)}
                    aria-pressed={selected}
                    aria-describedby={`cell-desc-${id}`}
                    disabled={!shown}
                    tabIndex={id === tabStop ? 0 : -1}
                    onClick={(e) => onSelect(clickCell(selection, grid, id, mods(e)))}
                    onKeyDown={(e) => onKey(e, ri, ci, shown ? id : '')}
                  >
                    <CellBody cell={cell} descId={`cell-desc-${id}`} />
                  </button>
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

const STATE_LABEL: Record<JobCell['state'], string> = {
  missing: 'data missing',
  ready: 'ready',
  planned: 'planned (dry run)',
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
  diverged: 'diverged',
  interrupted: 'interrupted',
};

function CellBody({ cell, descId }: { cell: JobCell; descId: string }) {
  const p = cell.progress;
  const frac =
    p?.step != null && p.total_steps
      ? Math.min(1, (p.step + 1) / p.total_steps)
      : p?.epoch != null && p.total_epochs
        ? Math.min(1, p.epoch / p.total_epochs)
        : null;
  let detail = '';
  switch (cell.state) {
    case 'missing':
      detail = cell.missingFiles.length
        ? `${basename(cell.missingFiles[0])}${cell.missingFiles.length > 1 ? ` +${cell.missingFiles.length - 1}` : ''}`
        : (cell.reason ?? '');
      break;
    case 'running': {
      const parts: string[] = [];
      if (p?.epoch != null) parts.push(`epoch ${p.epoch + 1}${p.total_epochs ? `/${p.total_epochs}` : ''}`);
      if (frac !== null) parts.push(`${Math.round(frac * 100)}%`);
      const eta = etaSeconds(cell);
      if (eta !== null) parts.push(`ETA ${formatEta(eta)}`);
      if (p?.last_loss != null) parts.push(`loss ${formatLoss(p.last_loss)}`);
      detail = parts.join(' · ') || 'starting…';
      break;
    }
    case 'done':
      detail = `final loss ${formatLoss(cell.finalLoss)}`;
      if (cell.freshness && cell.freshness !== 'up to date') detail += ' · stale';
      break;
    case 'queued':
      detail = cell.slurm ?? '';
      break;
    case 'failed':
    case 'diverged':
    case 'interrupted':
    case 'cancelled':
      // "cancelled at epoch 4 of 12" — why and where it stopped, and whether Resume can continue it
      detail = cell.stop ?? cell.reason ?? '';
      if (cell.resumable) detail += ' · resumable';
      break;
    case 'skipped':
      detail = cell.reason ?? '';
      break;
    case 'planned':
      detail = 'nothing trained';
      break;
    default:
      detail = '';
  }
  return (
    <span className="cell-body">
      <span className="cell-title" aria-hidden="true">
        {cell.view} <span className="muted">gs{cell.gridsize}</span>
      </span>
      <span id={descId} className="cell-state">
        <span className={`badge badge-${cell.state}`}>{STATE_LABEL[cell.state]}</span>
        {detail && (
          <span
            className="cell-detail"
            title={[cell.reason ?? detail, cell.slurm, cell.freshness].filter(Boolean).join('\n')}
          >
            {detail}
          </span>
        )}
      </span>
      {cell.state === 'running' && (
        <span className="progress" aria-hidden="true">
          <span style={{ width: `${((frac ?? 0) * 100).toFixed(1)}%` }} />
        </span>
      )}
    </span>
  );
}
