import { describe, expect, it } from 'vitest';
import { clickCell, clickHeader, emptySelection, pruneSelection, selectAll } from './selection';

const grid = [
  ['a1', 'a2', 'a3'],
  ['b1', 'b2', 'b3'],
  ['c1', 'c2', 'c3'],
];
const ids = (s: { ids: ReadonlySet<string> }) => [...s.ids].sort();

describe('job matrix selection', () => {
  it('a plain click selects exactly one cell', () => {
    let s = clickCell(emptySelection, grid, 'a1');
    s = clickCell(s, grid, 'b2');
    expect(ids(s)).toEqual(['b2']);
  });

  it('ctrl-click toggles cells in and out', () => {
    let s = clickCell(emptySelection, grid, 'a1');
    s = clickCell(s, grid, 'c3', { ctrl: true });
    expect(ids(s)).toEqual(['a1', 'c3']);
    s = clickCell(s, grid, 'a1', { ctrl: true });
    expect(ids(s)).toEqual(['c3']);
  });

  it('shift-click selects the rectangle from the anchor', () => {
    let s = clickCell(emptySelection, grid, 'a2');
    s = clickCell(s, grid, 'c3', { shift: true });
    expect(ids(s)).toEqual(['a2', 'a3', 'b2', 'b3', 'c2', 'c3']);
    // the anchor stays, so a second shift-click re-spans from it
    s = clickCell(s, grid, 'a1', { shift: true });
    expect(ids(s)).toEqual(['a1', 'a2']);
  });

  it('ctrl+shift adds the rectangle to the selection', () => {
    let s = clickCell(emptySelection, grid, 'c1');
    s = clickCell(s, grid, 'a3', { ctrl: true });
    s = clickCell(s, grid, 'b3', { ctrl: true, shift: true });
    expect(ids(s)).toEqual(['a3', 'b3', 'c1']);
  });

  it('a header selects its line; ctrl toggles the line as a whole', () => {
    let s = clickHeader(clickCell(emptySelection, grid, 'c3'), ['a1', 'b1', 'c1']);
    expect(ids(s)).toEqual(['a1', 'b1', 'c1']);
    s = clickHeader(s, ['a1', 'a2', 'a3'], { ctrl: true });
    expect(ids(s)).toEqual(['a1', 'a2', 'a3', 'b1', 'c1']);
    s = clickHeader(s, ['a1', 'a2', 'a3'], { ctrl: true });
    expect(ids(s)).toEqual(['b1', 'c1']);
  });

  it('select all and pruning of vanished cells', () => {
    const s = selectAll(grid);
    expect(s.ids.size).toBe(9);
    const p = pruneSelection(s, new Set(['a1', 'b2']));
    expect(ids(p)).toEqual(['a1', 'b2']);
  });
});
