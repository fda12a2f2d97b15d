/**
 * Filter chips, the same three filters as the CLI (`--dose`, `--view`, `--gridsize`):
 * one choice per group, "all" clears it. Jobs outside the filter are dimmed in the matrix.
 */
import { VIEW_NAMES } from '../../../shared/study';
import { formatDose } from '../lib/format';
import type { Filters } from '../stores/study';

interface Props {
  doses: number[];
  filters: Filters;
  onChange(f: Filters): void;
}

function Group<T extends string | number>({
  label,
  options,
  value,
  show,
  onPick,
}: {
  label: string;
  options: T[];
  value: T | null;
  show(v: T): string;
  onPick(v: T | null): void;
}) {
  return (
    <fieldset className="chip-group">
      <legend className="muted">{label}</legend>
      <button type="button" aria-pressed={value === null} className="chip" onClick={() => onPick(null)}>
        all
      </button>
      {options.map((o) => (
        <button
          key={String(o)}
          type="button"
          aria-pressed={value === o}
          className="chip"
          onClick={() => onPick(value === o ? null : o)}
        >
          {show(o)}
        </button>
      ))}
    </fieldset>
  );
}

export function FilterChips({ doses, filters, onChange }: Props) {
  return (
    <div className="filters">
      <Group
        label="dose"
        options={doses}
        value={filters.dose}
        show={formatDose}
        onPick={(dose) => onChange({ ...filters, dose })}
      />
      <Group
        label="view"
        options={[...VIEW_NAMES]}
        value={filters.view}
        show={(v) => v}
        onPick={(view) => onChange({ ...filters, view })}
      />
      <Group
        label="gridsize"
        options={[1, 2] as (1 | 2)[]}
        value={filters.gridsize}
        show={(g) => `gs${g}`}
        onPick={(gridsize) => onChange({ ...filters, gridsize })}
      />
    </div>
  );
}
