/**
 * Job-matrix selection, spreadsheet style: a click selects one cell, ctrl/⌘-click toggles a
 * cell, shift-click selects the rectangle from the anchor, and a row or column header
 * selects that whole row or column (ctrl adds to or removes from the selection).
 * Pure functions over a grid of cell ids so the rules are unit-tested without a DOM.
 */
export interface Selection {
  readonly ids: ReadonlySet<string>;
  readonly anchor: string | null;
}

export interface Modifiers {
  ctrl?: boolean;
  shift?: boolean;
}

export const emptySelection: Selection = { ids: new Set(), anchor: null };

function locate(grid: readonly (readonly string[])[], id: string): [number, number] | null {
  for (let r = 0; r < grid.length; r++) {
    const c = grid[r].indexOf(id);
    if (c >= 0) return [r, c];
  }
  return null;
}

export function clickCell(
  sel: Selection,
  grid: readonly (readonly string[])[],
  id: string,
  mods: Modifiers = {},
): Selection {
  if (mods.shift && sel.anchor) {
    const a = locate(grid, sel.anchor);
    const b = locate(grid, id);
    if (a && b) {
      const ids = new Set(mods.ctrl ? sel.ids : []);
      for (let r = Math.min(a[0], b[0]); r <= Math.max(a[0], b[0]); r++)
        for (let c = Math.min(a[1], b[1]); c <= Math.max(a[1], b[1]); c++) {
          const cell = grid[r][c];
          if (cell !== undefined) ids.add(cell);
        }
      return { ids, anchor: sel.anchor };
    }
  }
  if (mods.ctrl) {
    const ids = new Set(sel.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { ids, anchor: id };
  }
  return { ids: new Set([id]), anchor: id };
}

/** A row or column header: select exactly that line, or with ctrl toggle it as a whole. */
export function clickHeader(sel: Selection, line: readonly string[], mods: Modifiers = {}): Selection {
  if (line.length === 0) return sel;
  if (mods.ctrl || mods.shift) {
    const ids = new Set(sel.ids);
    const all = line.every((id) => ids.has(id));
    for (const id of line) {
      if (all) ids.delete(id);
      else ids.add(id);
    }
    return { ids, anchor: line[0] };
  }
  return { ids: new Set(line), anchor: line[0] };
}

export function selectAll(grid: readonly (readonly string[])[]): Selection {
  const ids = new Set(grid.flat());
  return { ids, anchor: grid[0]?.[0] ?? null };
}

/** Drop ids that no longer exist (e.g. after the roots change). */
export function pruneSelection(sel: Selection, existing: ReadonlySet<string>): Selection {
  const ids = new Set([...sel.ids].filter((id) => existing.has(id)));
  if (ids.size === sel.ids.size) return sel;
  return { ids, anchor: sel.anchor && existing.has(sel.anchor) ? sel.anchor : null };
}
