import { describe, expect, it } from 'vitest';
import { doseTrendSvg } from './charts-svg';

function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);
}

describe('dose-trend chart title', () => {
  it('puts "higher is better" on its own line, so the title is not cut at the chart edge', () => {
    const svg = doseTrendSvg([], 'phase_ssim', 'Phase SSIM', 'higher');
    expect(svg).toContain('aria-label="Phase SSIM vs dose (higher is better)"');
    const [title, caption] = texts(svg);
    expect(title).toBe('Phase SSIM vs dose');
    expect(caption).toBe('higher is better');
    expect(svg).not.toContain('textLength');
  });

  it('squeezes a title longer than the chart into its width instead of letting it run off', () => {
    const label = 'Amplitude FRC 0.5 crossing, skill against the constant guess';
    const svg = doseTrendSvg([], 'phase_ssim', label, 'lower', {}, 300);
    expect(svg).toContain('textLength="284"');
    expect(texts(svg)[0]).toBe(`${label} vs dose`);
  });
});
