import { describe, expect, it } from 'vitest';
import { alignSeries, Series } from './series';

describe('curve series', () => {
  it('grows past its capacity and keeps every point', () => {
    const s = new Series(2);
    for (let i = 0; i < 1000; i++) s.push(i, i * i);
    expect(s.length).toBe(1000);
    expect(s.x[999]).toBe(999);
    expect(s.y[500]).toBe(250000);
    s.pushMany(new Float64Array([1000, 1001]), [5, 6]);
    expect(Array.from(s.y.subarray(999))).toEqual([998001, 5, 6]);
  });

  it('truncates a superseded tail so x stays sorted', () => {
    const s = new Series();
    for (let i = 0; i < 10; i++) s.push(i, i);
    s.truncateFrom(6);
    expect(Array.from(s.x)).toEqual([0, 1, 2, 3, 4, 5]);
    s.truncateFrom(100);
    expect(s.length).toBe(6);
  });

  it('aligns series with different steps onto one axis with gaps', () => {
    const a = { x: new Float64Array([0, 1, 2, 3]), y: new Float64Array([1, 2, 3, 4]) };
    const b = { x: new Float64Array([1, 3, 5]), y: new Float64Array([10, 30, 50]) };
    const { x, ys } = alignSeries([a, b]);
    expect(Array.from(x)).toEqual([0, 1, 2, 3, 5]);
    expect(Array.from(ys[0])).toEqual([1, 2, 3, 4, null]);
    expect(Array.from(ys[1])).toEqual([null, 10, null, 30, 50]);
  });

  it('does not copy when all series share their x values', () => {
    const x = new Float64Array([0, 1, 2]);
    const a = { x, y: new Float64Array([1, 2, 3]) };
    const b = { x: new Float64Array([0, 1, 2]), y: new Float64Array([4, 5, 6]) };
    const r = alignSeries([a, b]);
    expect(r.x).toBe(x);
    expect(r.ys[1]).toBe(b.y);
  });
});
