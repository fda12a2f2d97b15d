import { describe, expect, it } from 'vitest';
import { chartCsv, chartJson, exportName } from './chart-export';

const meta = { scalar: 'loss', xAxis: 'step', smoothing: 0.6, ignoreOutliers: true };

describe('chart export', () => {
  it('writes one CSV row per point with its own x, quoting labels that need it', () => {
    const csv = chartCsv(
      [
        { job: 'dose 1000 baseline gs1', kind: 'raw', x: [1, 2], y: [-139.5, 1e4] },
        { job: 'a, "b"', kind: 'val', x: [10], y: [Number.NaN] },
      ],
      meta,
    );
    expect(csv.split('\r\n')).toEqual([
      'job,line,step,loss',
      'dose 1000 baseline gs1,raw,1,-139.5',
      'dose 1000 baseline gs1,raw,2,10000',
      '"a, ""b""",validation,10,',
      '',
    ]);
  });

  it('writes JSON with the axes and nulls for missing values', () => {
    const j = JSON.parse(chartJson([{ job: 'j', kind: 'smoothed', x: new Float64Array([1]), y: [Number.NaN] }], meta));
    expect(j).toEqual({ ...meta, lines: [{ job: 'j', line: 'smoothed', x: [1], y: [null] }] });
  });

  it('names the file after the scalar and the x axis', () => {
    expect(exportName({ scalar: 'loss_terms.nll', xAxis: 'wall' }, 'csv', new Date('2026-12-03T12:00:00Z'))).toBe(
      'loss-terms-nll-by-wall-2026-12-03T12-00-00.csv',
    );
  });
});
