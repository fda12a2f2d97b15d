/**
 * Per-job pictures of an aligned reconstruction: amplitude (ground truth | reconstruction on
 * one colour scale), phase (cyclic colour map over [−π, π)) and the errors (signed, on a
 * symmetric diverging scale). Pixels no patch covered are grey.
 */
import type { AlignedPair } from '../align';
import { type RealImage, realImage } from '../image';
import { renderFigure } from '../render/figure';
import { formatDose } from '../render/format';

export interface JobFigureLabel {
  dose: number;
  view: string;
  gridsize: number;
}

export interface JobFigures {
  amplitude: Buffer;
  phase: Buffer;
  error: Buffer;
}

const wrap = (v: number) => v - 2 * Math.PI * Math.floor((v + Math.PI) / (2 * Math.PI));

/** The q-quantile of |values| over unmasked pixels, for a robust symmetric error scale. */
function absQuantile(img: RealImage, mask: Uint8Array, q: number): number {
  const vals: number[] = [];
  for (let i = 0; i < img.data.length; i++) if (!mask[i]) vals.push(Math.abs(img.data[i]));
  if (!vals.length) return 1;
  vals.sort((a, b) => a - b);
  return vals[Math.min(vals.length - 1, Math.floor(q * vals.length))] || 1e-6;
}

function range(img: RealImage, mask: Uint8Array): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < img.data.length; i++) {
    if (mask[i]) continue;
    lo = Math.min(lo, img.data[i]);
    hi = Math.max(hi, img.data[i]);
  }
  return Number.isFinite(lo) && hi > lo ? [lo, hi] : [lo || 0, (lo || 0) + 1];
}

export function renderJobFigures(a: AlignedPair, mask: Uint8Array, label: JobFigureLabel): JobFigures {
  const head = `dose ${formatDose(label.dose)} · ${label.view} · gridsize ${label.gridsize}`;
  const [lo, hi] = range(a.amplitudeTarget, mask);
  const amplitude = renderFigure(
    [
      { image: a.amplitudeTarget, title: 'ground truth', colormap: 'viridis', vmin: lo, vmax: hi, mask },
      { image: a.amplitudePred, title: 'reconstruction (scaled)', colormap: 'viridis', vmin: lo, vmax: hi, mask },
    ],
    `${head} · amplitude`,
  );
  const phase = renderFigure(
    [
      {
        image: a.phaseTarget,
        title: 'ground truth',
        colormap: 'twilight',
        vmin: -Math.PI,
        vmax: Math.PI,
        unit: 'rad',
        mask,
        cyclic: true,
      },
      {
        image: a.phasePred,
        title: 'reconstruction',
        colormap: 'twilight',
        vmin: -Math.PI,
        vmax: Math.PI,
        unit: 'rad',
        mask,
        cyclic: true,
      },
    ],
    `${head} · phase (plane removed)`,
  );
  const ampErr = realImage(a.amplitudeTarget.height, a.amplitudeTarget.width);
  const phErr = realImage(a.phaseTarget.height, a.phaseTarget.width);
  for (let i = 0; i < ampErr.data.length; i++) {
    ampErr.data[i] = a.amplitudePred.data[i] - a.amplitudeTarget.data[i];
    phErr.data[i] = wrap(a.phasePred.data[i] - a.phaseTarget.data[i]);
  }
  const ea = absQuantile(ampErr, mask, 0.99);
  const ep = absQuantile(phErr, mask, 0.99);
  const error = renderFigure(
    [
      { image: ampErr, title: 'amplitude: recon − truth', colormap: 'coolwarm', vmin: -ea, vmax: ea, mask },
      {
        image: phErr,
        title: 'phase: recon − truth',
        colormap: 'coolwarm',
        vmin: -ep,
        vmax: ep,
        unit: 'rad',
        mask,
      },
    ],
    `${head} · error`,
  );
  return { amplitude, phase, error };
}
