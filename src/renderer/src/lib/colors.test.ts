import { describe, expect, it } from 'vitest';
import { ciede2000, deltaE } from './color-distance';
import { CHART_BACKGROUND, jobColor, MIN_DELTA_E, PALETTE, withAlpha } from './colors';

const DOSES = [1e3, 1e4, 1e5];
const VIEWS = ['baseline', 'dense', 'sparse'];

describe('CIEDE2000', () => {
  it("matches Sharma, Wu and Dalal's published test pairs", () => {
    expect(ciede2000({ L: 50, a: 2.6772, b: -79.7751 }, { L: 50, a: 0, b: -82.7485 })).toBeCloseTo(2.0425, 4);
    expect(ciede2000({ L: 50, a: 2.5, b: 0 }, { L: 73, a: 25, b: -18 })).toBeCloseTo(27.1492, 4);
    expect(ciede2000({ L: 2.0776, a: 0.0795, b: -1.135 }, { L: 0.9033, a: -0.0636, b: -0.5514 })).toBeCloseTo(
      0.9082,
      4,
    );
  });
  it('is zero for one colour and grows with the difference', () => {
    expect(deltaE('#336699', '#336699')).toBe(0);
    expect(deltaE('#000000', '#ffffff')).toBeCloseTo(100, 0);
  });
});

describe('job palette', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`keeps the nine jobs at least ΔE00 ${MIN_DELTA_E} apart in the ${theme} theme`, () => {
      const colours = DOSES.flatMap((d) => VIEWS.map((v) => jobColor(v, d, theme, DOSES)));
      expect(new Set(colours).size).toBe(9);
      let min = Number.POSITIVE_INFINITY;
      for (let i = 0; i < colours.length; i++)
        for (let j = i + 1; j < colours.length; j++) min = Math.min(min, deltaE(colours[i], colours[j]));
      expect(min).toBeGreaterThanOrEqual(MIN_DELTA_E);
    });
    it(`sets every job colour apart from the ${theme} chart background`, () => {
      for (const c of PALETTE[theme]) expect(deltaE(c, CHART_BACKGROUND[theme])).toBeGreaterThanOrEqual(25);
    });
  }
  it('gives a job the same colour whatever order the doses come in', () => {
    expect(jobColor('dense', 1e4, 'light', [1e5, 1e3, 1e4])).toBe(jobColor('dense', 1e4, 'light', DOSES));
  });
  it('adds an alpha to a hex colour', () => {
    expect(withAlpha('#ff0080', 0.5)).toBe('rgba(255, 0, 128, 0.5)');
    // a faded colour fades further (an earlier attempt's raw line)
    expect(withAlpha(withAlpha('#ff0080', 0.5), 0.5)).toBe('rgba(255, 0, 128, 0.25)');
  });
});
