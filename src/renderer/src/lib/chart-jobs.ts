/**
 * Which runs the chart lists and draws: the matrix selection (or every job with a curve when
 * nothing is selected), narrowed by the filter chips and the run search; and the legend's
 * hide (click) / isolate (Alt+click) rule.
 */
import { cellName, type JobCell } from '../model';
import { type Filters, matchesFilters } from '../stores/study';

/** Which jobs the chart offers: the selection (or all with curves), the filter chips and the search. */
export function chartJobIds(
  cells: readonly JobCell[],
  withCurves: ReadonlySet<string>,
  selected: ReadonlySet<string>,
  filters: Filters,
  search: string,
): string[] {
  const q = search.trim().toLowerCase();
  return cells
    .filter(
      (c) =>
        withCurves.has(c.id) &&
        (selected.size === 0 || selected.has(c.id)) &&
        matchesFilters(c, filters) &&
        (!q || cellName(c).toLowerCase().includes(q) || c.id.toLowerCase().includes(q)),
    )
    .map((c) => c.id);
}

/** Legend click: hide/show one job; Alt+click: show only it (again: show all). */
export function legendClick(
  hidden: ReadonlySet<string>,
  all: readonly string[],
  id: string,
  alt: boolean,
): Set<string> {
  if (!alt) {
    const next = new Set(hidden);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  }
  const isolated = !hidden.has(id) && all.every((j) => j === id || hidden.has(j));
  return isolated ? new Set() : new Set(all.filter((j) => j !== id));
}
