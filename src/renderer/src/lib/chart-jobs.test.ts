import { describe, expect, it } from 'vitest';
import { type JobCell, jobCell } from '../model';
import { NO_FILTERS } from '../stores/study';
import { chartJobIds, legendClick } from './chart-jobs';
import { formatX, readoutText } from './readout';

function cell(dose: number, view: 'baseline' | 'dense' | 'sparse'): JobCell {
  const gridsize = view === 'baseline' ? 1 : 2;
  return jobCell({ id: `dose_${dose}-${view}-gs${gridsize}`, dose, view, gridsize, state: 'done' });
}

const cells = [1000, 10000].flatMap((d) => (['baseline', 'dense', 'sparse'] as const).map((v) => cell(d, v)));
const withCurves = new Set(cells.map((c) => c.id).filter((id) => !id.includes('sparse')));

describe('which runs the chart shows', () => {
  it('shows every job with a curve when nothing is selected', () => {
    expect(chartJobIds(cells, withCurves, new Set(), NO_FILTERS, '')).toHaveLength(4);
  });
  it('applies the selection, the filter chips and the search', () => {
    expect(chartJobIds(cells, withCurves, new Set(['dose_1000-dense-gs2']), NO_FILTERS, '')).toEqual([
      'dose_1000-dense-gs2',
    ]);
    expect(chartJobIds(cells, withCurves, new Set(), { ...NO_FILTERS, dose: 10000 }, '')).toEqual([
      'dose_10000-baseline-gs1',
      'dose_10000-dense-gs2',
    ]);
    expect(chartJobIds(cells, withCurves, new Set(), NO_FILTERS, 'BASELINE')).toEqual([
      'dose_1000-baseline-gs1',
      'dose_10000-baseline-gs1',
    ]);
  });
});

describe('legend clicks', () => {
  const all = ['a', 'b', 'c'];
  it('click hides a run and a second click shows it again', () => {
    const h = legendClick(new Set(), all, 'b', false);
    expect([...h]).toEqual(['b']);
    expect([...legendClick(h, all, 'b', false)]).toEqual([]);
  });
  it('Alt+click shows only that run; Alt+click on it again shows all', () => {
    const h = legendClick(new Set(['a']), all, 'c', true);
    expect([...h].sort()).toEqual(['a', 'b']);
    expect([...legendClick(h, all, 'c', true)]).toEqual([]);
  });
});

describe('hover readout', () => {
  it('labels the raw and the smoothed value both', () => {
    expect(readoutText('loss', { color: '', raw: -139.6, smoothed: -139.1, val: -143.4 })).toBe(
      'train raw -139.6 · smoothed -139.1 · val -143.4',
    );
  });
  it('says when the raw point was left out of the smoothing', () => {
    expect(readoutText('loss', { color: '', raw: 1e4, smoothed: -139.1, outlier: true })).toMatch(
      /^train raw 1\.000e\+4 \(outlier: left out of the smoothing\) · smoothed -139\.1$/,
    );
  });
  it('names other scalars', () => {
    expect(readoutText('lr', { color: '', raw: 0.001 })).toBe('learning rate raw 0.001000');
  });
  it('reads x as its axis', () => {
    expect(formatX(12, 'step')).toBe('step 12');
    expect(formatX(1.25, 'epoch')).toBe('epoch 1.25');
    expect(formatX(90, 'relative')).toBe('90.0 s');
    expect(formatX(150, 'relative')).toBe('2 min 30 s');
  });
});
