/**
 * The dose × view heat map of one Phase G metric (comparison.json). Colour runs from worse
 * (light) to better (dark) whatever the metric's direction, on a fixed range where the metric
 * has one (skill and SSIM 0–1, errors from 0 to the constant guess's score), so that a
 * 0.4065 vs 0.4200 difference is not painted as light vs dark. A colour bar states the range;
 * every cell also prints its value, so the map reads without colour. Jobs without a score say
 * why; a job no better than a constant image is marked "not converged".
 */
import { useState } from 'react';
import {
  COMPARISON_METRICS,
  type ComparisonFile,
  type ComparisonMetricKey,
  metricRange,
} from '../../../shared/evaluation';
import { formatDose, missingLabel } from '../lib/format';

interface Props {
  comparison: ComparisonFile;
  onPick?(jobId: string): void;
}

/** 0 = worst, 1 = best → a perceptually ordered blue ramp (readable in both themes). */
function shade(t: number): string {
  const light = 88 - 58 * t;
  return `hsl(215 70% ${light.toFixed(0)}%)`;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

export function HeatMap({ comparison, onPick }: Props) {
  const [metric, setMetric] = useState<ComparisonMetricKey>('phase_mae_skill');
  const spec = COMPARISON_METRICS.find((m) => m.key === metric) ?? COMPARISON_METRICS[0];
  const values = comparison.rows.map((r) => r[metric]).filter((v): v is number => v !== null && Number.isFinite(v));
  const fixed = metricRange(spec, comparison.rows);
  const lo = fixed?.lo ?? Math.min(...values);
  const hi = fixed?.hi ?? Math.max(...values);
  const score = (v: number) => {
    if (!(hi > lo)) return 1;
    const t = Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
    return spec.better === 'higher' ? t : 1 - t;
  };
  const [worst, best] = spec.better === 'higher' ? [lo, hi] : [hi, lo];
  const rangeText = !fixed
    ? 'colours span only the values shown: small differences may be noise'
    : spec.range === 'unit'
      ? `fixed range ${fmt(lo)}–${fmt(hi)}`
      : "range 0 to the constant guess's score";
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
                      {row ? missingLabel(row.state, row.reason) : '—'}
                    </td>
                  );
                }
                const t = score(value);
                const sd =
                  metric === 'phase_mae_skill'
                    ? row.phase_mae_skill_sd
                    : metric === 'amp_mae_skill'
                      ? row.amp_mae_skill_sd
                      : null;
                return (
                  <td key={v} style={{ background: shade(t), color: t > 0.55 ? '#fff' : '#111' }}>
                    <button type="button" className="hm-cell" onClick={() => onPick?.(row.job_id)}>
                      {value.toPrecision(4)}
                      {sd !== null ? ` ± ${sd.toPrecision(2)}` : ''}
                    </button>
                    {row.not_converged && (
                      <span className="hm-flag" title="MAE skill ≤ 0.05: no better than a constant image">
                        not converged
                      </span>
                    )}
                    {row.registration_at_cap && (
                      <span
                        className="hm-flag"
                        title="the registration shift reached its cap: the alignment is suspect"
                      >
                        registration at cap
                      </span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <div className="hm-colorbar" role="img" aria-label={`colour bar: ${rangeText}`}>
        <span>{values.length || fixed ? `${fmt(worst)} (worse)` : ''}</span>
        <span
          className="hm-ramp"
          style={{ background: `linear-gradient(to right, ${shade(0)}, ${shade(0.5)}, ${shade(1)})` }}
        />
        <span>{values.length || fixed ? `${fmt(best)} (better)` : ''}</span>
        <span className="muted">{rangeText}</span>
      </div>
      {spec.key.endsWith('_skill') && (
        <p className="muted">
          Skill = (constant guess − model) / (constant guess − perfect), both scored through the same pipeline: 0 = no
          better than a flat image, 1 = perfect.
        </p>
      )}
      {comparison.missing.length > 0 && (
        <p className="muted">{comparison.missing.length} job(s) not scored — hover a cell for the reason.</p>
      )}
    </section>
  );
}
