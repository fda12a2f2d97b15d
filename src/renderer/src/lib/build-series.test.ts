import { describe, expect, it } from 'vitest';
import type { TrainEvent } from '../../../shared/events';
import { CurveStore } from '../stores/curves';
import { availableScalars, buildSeries, createBuildCache, scalarLabel } from './build-series';

const T0 = Date.parse('2026-12-03T10:00:00Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

/** A gs1-like job: 3 epochs of 4 steps, flat near −140 with a spike at step 2. */
function events(extra: (step: number) => Record<string, unknown> = () => ({})): TrainEvent[] {
  const out: TrainEvent[] = [
    {
      type: 'status',
      time: iso(0),
      status: 'started',
      total_steps: 12,
      total_epochs: 3,
      message: 'cpu, batch 8, 4 steps per epoch',
    },
  ];
  for (let step = 1; step <= 12; step++) {
    const epoch = Math.floor((step - 1) / 4);
    out.push({
      type: 'step',
      time: iso(step * 2),
      step,
      epoch,
      loss: step === 2 ? 1e4 : -140 + 0.1 * step,
      samples_per_s: 100 + step,
      lr: 1e-3,
      ...extra(step),
    } as TrainEvent);
    if (step % 4 === 0)
      out.push({
        type: 'epoch',
        time: iso(step * 2 + 1),
        epoch,
        step,
        train_loss: -139,
        val_loss: -143.4,
        lr: 1e-3,
        mean_pattern_nll: 50,
      });
  }
  return out;
}

function storeWith(evs: TrainEvent[]): CurveStore {
  const store = new CurveStore(1);
  store.replace('j', evs);
  return store;
}

const job = { id: 'j', label: 'dose 1000 baseline gs1', color: '#1f77b4' };
const opts = { xAxis: 'step' as const, scalar: 'loss', smoothing: 0.6, ignoreOutliers: true };

describe('buildSeries', () => {
  it('gives raw, smoothed (outlier left out), validation and the mean-pattern reference', () => {
    const store = storeWith(events());
    const b = buildSeries([{ job, curve: store.get('j') }], opts, createBuildCache());
    expect(b.specs.map((s) => s.kind)).toEqual(['raw', 'smoothed', 'val', 'meanPattern']);
    const smoothed = b.specs[1];
    expect([...smoothed.x]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(smoothed.outlier?.[1]).toBe(1);
    for (const v of smoothed.y) expect(Math.abs(v + 139.4)).toBeLessThan(1);
    // the raw line keeps the spike
    expect(b.specs[0].y[1]).toBe(1e4);
    expect(b.points).toBe(12 + 3);
    expect(b.nonPositive).toBe(true);
  });

  it('without ignoring outliers the smoothed line is dragged by the spike', () => {
    const store = storeWith(events());
    const b = buildSeries([{ job, curve: store.get('j') }], { ...opts, ignoreOutliers: false }, createBuildCache());
    expect(b.specs[1].y[2]).toBeGreaterThan(1000);
  });

  it('puts points on the epoch, relative-time and wall-time axes', () => {
    const store = storeWith(events());
    const curve = store.get('j');
    const cache = createBuildCache();
    const epoch = buildSeries([{ job, curve }], { ...opts, xAxis: 'epoch' }, cache);
    expect(epoch.specs[0].x[3]).toBe(1); // step 4 ends epoch 0
    expect(epoch.specs[2].x[0]).toBe(1); // its validation point
    const rel = buildSeries([{ job, curve }], { ...opts, xAxis: 'relative' }, cache);
    expect(rel.specs[0].x[0]).toBe(0);
    expect(rel.specs[0].x[11]).toBe(22);
    expect(rel.specs[2].x[0]).toBe(7); // epoch 0's validation came 1 s after step 4
    expect(rel.specs.some((s) => s.kind === 'meanPattern')).toBe(false);
    const wall = buildSeries([{ job, curve }], { ...opts, xAxis: 'wall' }, cache);
    expect(wall.specs[0].x[0]).toBe((T0 + 2000) / 1000);
  });

  it("uses the events' training time for relative time when they carry it", () => {
    const store = storeWith(events((step) => ({ elapsed_s: step * 0.5 })));
    const rel = buildSeries([{ job, curve: store.get('j') }], { ...opts, xAxis: 'relative' }, createBuildCache());
    expect(rel.specs[0].x[3]).toBe(2);
  });

  it('leaves out a job that lacks what the axis needs and says so', () => {
    const store = new CurveStore(1);
    store.loadPoints('j', new Float64Array([1, 2, 3]), new Float64Array([3, 2, 1]));
    const b = buildSeries([{ job, curve: store.get('j') }], { ...opts, xAxis: 'wall' }, createBuildCache());
    expect(b.specs).toEqual([]);
    expect(b.missingX).toEqual(['dose 1000 baseline gs1']);
  });

  it('offers every per-step scalar the events carry, loss first, and draws the chosen one', () => {
    const store = storeWith(events((step) => ({ grad_norm: step, loss_terms: { poisson_nll: -140 } })));
    const curve = store.get('j');
    expect(availableScalars([curve])).toEqual(['loss', 'grad_norm', 'loss_terms.poisson_nll', 'lr', 'samples_per_s']);
    expect(scalarLabel('loss_terms.poisson_nll')).toBe('poisson nll (loss terms)');
    const b = buildSeries(
      [{ job, curve }],
      { ...opts, scalar: 'grad_norm', smoothing: 0, ignoreOutliers: false },
      createBuildCache(),
    );
    expect(b.specs.map((s) => s.kind)).toEqual(['raw']);
    expect([...b.specs[0].y]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('extends the smoothed line as points stream in, and restarts it when the curve is cut', () => {
    const store = new CurveStore(1);
    const evs = events();
    const cache = createBuildCache();
    for (const ev of evs) store.ingest('j', ev);
    const all = buildSeries([{ job, curve: store.get('j') }], opts, cache).specs[1].y.slice();
    // a resume from step 8 replays steps 9..12: same values, same smoothed line
    for (const ev of evs.filter((e) => e.type === 'step' && e.step > 8)) store.ingest('j', ev);
    const again = buildSeries([{ job, curve: store.get('j') }], opts, cache).specs[1].y;
    expect([...again]).toEqual([...all]);
  });
});
