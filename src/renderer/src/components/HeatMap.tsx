/**
 * The dose × view heat map of one Phase G metric (comparison.json). Colour runs from worse
 * (light) to better (dark) whatever the metric's direction, and every cell also prints its
 * value, so the map reads without colour. Jobs without a score say why.
 */
import { useState } from 'react';
import { COMPARISON_METRICS, type ComparisonFile, type ComparisonMetricKey } from '../../../shared/evaluation';
import { formatDose } from '../lib/format';

interface Props {
  comparison: ComparisonFile;
  onPick?(jobId: string): void;
}

/** 0 = worst, 1 = best → a perceptually ordered blue ramp (readable in both themes). */
function shade(t: number): string {
  const light = 88 - 58 * t;
  return `hsl(215 70% ${light.toFixed(0)}%)`;
}

export function HeatMap({ comparison, onPick }: Props) {
  const [metric, setMetric] = useState<ComparisonMetricKey>('phase_ms_ssim');
  const spec = COMPARISON_METRICS.find((m) => m.key === metric) ?? COMPARISON_METRICS[0];
  const values = comparison.rows.map((r) => r[metric]).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const score = (v: number) => {
    if (!(hi > lo)) return 1;
    const t = (v - lo) / (hi - lo);
    return spec.better === 'higher' ? t : 1 - t;
  };
  return (
    <section className="heatmap" aria-label="Dose by view heat map">
      <label>
        Metric{' '}
        <select value={metric} onChange={(e) => setMetric(e.target.value as ComparisonMetricKey)}>
          {COMPARISON_METRICS.map((m) => (
            <option key={m.key} value={m.key}>
              {m.label} ({m.better} is better)
            </option>
          ))}
        </select>
      </label>
      <table>
        <thead>
          <tr>
            <th />
            {comparison.views.map((v) => (
              <th key={v} scope="col">
                {v}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {comparison.doses.map((d) => (
            <tr key={d}>
              <th scope="row">dose {formatDose(d)}</th>
              {comparison.views.map((v) => {
                const row = comparison.rows.find((r) => r.dose === d && r.view === v);
                const value = row ? row[metric] : null;
                if (!row || value === null) {
                  return (
                    <td key={v} className="hm-missing" title={row?.reason ?? 'not in the comparison'}>
                      {row?.state.replace('_', ' ') ?? '—'}
                    </td>
                  );
                }
                const t = score(value);
                return (
                  <td key={v} style={{ background: shade(t), color: t > 0.55 ? '#fff' : '#111' }}>
                    <button type="button" className="hm-cell" onClick={() => onPick?.(row.job_id)}>
                      {value.toPrecision(4)}
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {comparison.missing.length > 0 && (
        <p className="muted">{comparison.missing.length} job(s) not scored — hover a cell for the reason.</p>
      )}
    </section>
  );
}
