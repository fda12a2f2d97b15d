import { PNG } from 'pngjs';
import { rangeCaption } from '../report/build';
import { describe, expect, it } from 'vitest';
import { COMPARISON_METRICS } from '../../../shared/evaluation';
import { realImage } from '../image';
import { colorAt } from './colormap';
import { renderFigure } from './figure';
import { hasGlyph } from './font';
import { formatDose, formatNumber, formatPeriod } from './format';
import { renderHeatmap } from './heatmap';

describe('figure text and numbers', () => {
  it('every character the figures print has a glyph (none falls back to a box)', () => {
    const texts = [
      ...COMPARISON_METRICS.map((m) => m.label),
      'higher is better (bright = better), ',
      'lower is better (bright = better), ',
      ...COMPARISON_METRICS.flatMap((m) => [rangeCaption(m, null), rangeCaption(m, { lo: -0.25, hi: 1 })]),
      'baseline',
      'dense',
      'sparse',
      'gridsize 1',
      'dose',
      'view',
      'missing',
      'n/a',
      '≤2',
      '≥0.5',
      'amplitude: recon − truth',
      'phase: recon − truth',
      'reconstruction (scaled)',
      'ground truth',
      'phase (plane removed)',
      'dose 1e3 · dense · gridsize 2 · error',
      'rad',
      '-1.2e-5',
    ];
    const missing = [...new Set(texts.join(''))].filter((ch) => !hasGlyph(ch));
    expect(missing).toEqual([]);
  });

  it('formats numbers, doses and FRC periods compactly and honestly', () => {
    expect(formatNumber(0.123456)).toBe('0.123');
    expect(formatNumber(-0.000012345)).toBe('-1.23e-5');
    expect(formatNumber(12345.6)).toBe('1.23e4');
    expect(formatNumber(null)).toBe('n/a');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('inf');
    expect(formatDose(1e4)).toBe('1e4');
    expect(formatPeriod(2)).toBe('≤2');
    expect(formatPeriod(7.216)).toBe('7.22');
  });
});

function pixel(png: Buffer, x: number, y: number): [number, number, number] {
  const img = PNG.sync.read(png);
  const i = 4 * (y * img.width + x);
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
}

describe('colour scales', () => {
  it('a lower-is-better heat map paints its lowest value with the bright end of the scale', () => {
    const spec = {
      title: 't',
      rowLabels: ['1e3'],
      colLabels: ['a', 'b'],
      rowAxis: 'dose',
      colAxis: 'view',
      values: [[0.1, 0.9]],
    };
    const normal = PNG.sync.read(renderHeatmap(spec));
    const reversed = renderHeatmap({ ...spec, reverse: true });
    // find the grid's first cell by its colour in the normal map (lowest value = dark end)
    const dark = colorAt('viridis', 0);
    let at: [number, number] | null = null;
    for (let y = 0; y < normal.height && !at; y++) {
      for (let x = 0; x < normal.width && !at; x++) {
        const i = 4 * (y * normal.width + x);
        if (normal.data[i] === dark[0] && normal.data[i + 1] === dark[1] && normal.data[i + 2] === dark[2]) at = [x, y];
      }
    }
    if (!at) throw new Error('no cell painted with the dark end');
    expect(pixel(reversed, at[0] + 2, at[1] + 2)).toEqual(colorAt('viridis', 1));
  });

  it('with a fixed range, 0.4065 and 0.4200 get nearly the same colour (noise is not drawn as a trend)', () => {
    const spec = {
      title: 't',
      rowLabels: ['1e3'],
      colLabels: ['a', 'b'],
      rowAxis: 'dose',
      colAxis: 'view',
      values: [[0.4065, 0.42]],
    };
    const colours = (png: Buffer) => {
      const img = PNG.sync.read(png);
      const seen = new Set<string>();
      for (let i = 0; i < img.data.length; i += 4) seen.add(`${img.data[i]},${img.data[i + 1]},${img.data[i + 2]}`);
      return seen;
    };
    // auto range: the two cells take the two ends of the map
    const auto = colours(renderHeatmap(spec));
    expect(auto.has(colorAt('viridis', 0).join(','))).toBe(true);
    // fixed 0–1: both cells sit near 0.41 on the map, the ends appear only in the colour bar
    const fixedPng = renderHeatmap({ ...spec, range: { lo: 0, hi: 1 } });
    const fixed = colours(fixedPng);
    expect(fixed.has(colorAt('viridis', 0.4065).join(','))).toBe(true);
    expect(fixed.has(colorAt('viridis', 0.42).join(','))).toBe(true);
    const a = colorAt('viridis', 0.4065);
    const b = colorAt('viridis', 0.42);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(8);
  });

  it('a field figure maps vmin and vmax to the two ends of its colour map', () => {
    const img = realImage(40, 40);
    for (let i = 0; i < img.data.length; i++) img.data[i] = i < 800 ? 0 : 1;
    const png = PNG.sync.read(renderFigure([{ image: img, title: 'x', colormap: 'viridis', vmin: 0, vmax: 1 }]));
    const count = (rgb: [number, number, number]) => {
      let n = 0;
      for (let i = 0; i < png.data.length; i += 4)
        if (png.data[i] === rgb[0] && png.data[i + 1] === rgb[1] && png.data[i + 2] === rgb[2]) n++;
      return n;
    };
    // 40 × 40 px drawn at 4× zoom: each half is 160 × 80 screen pixels of one end of the map
    // (the colour bar adds only a row or two of each end)
    expect(count(colorAt('viridis', 0))).toBeGreaterThanOrEqual(160 * 80);
    expect(count(colorAt('viridis', 1))).toBeGreaterThanOrEqual(160 * 80);
    expect(count(colorAt('viridis', 0))).toBeLessThan(160 * 80 + 200);
  });
});
