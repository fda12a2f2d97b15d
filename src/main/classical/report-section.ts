/**
 * The report's "PtychoPINN and the classical arm" section: for every (dose, view), the two
 * arms' skill and SSIM side by side with the time each took (PtychoPINN: training + inference;
 * classical: the iterations on the test split), from comparison rows and classical.json.
 */
import type { ComparisonRow } from '../../shared/evaluation';
import { VIEW_GRIDSIZE, VIEW_NAMES } from '../../shared/study';
import type { TrainingManifest } from '../../shared/manifest';
import { missingRow } from '../eval/comparison';
import { formatDose, formatNumber } from '../eval/render/format';
import { doseTrendSvg } from '../eval/report/charts-svg';
import { renderHeatmap } from '../eval/render/heatmap';
import type { ClassicalFile, ClassicalRow } from './study';

const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

export interface PinnTiming {
  train_s: number | null;
  inference_s: number | null;
}

/** Training seconds per PtychoPINN job id, from the manifest (duration, else start → finish). */
export function trainingSeconds(manifest: TrainingManifest): Map<string, number> {
  const out = new Map<string, number>();
  for (const j of manifest.jobs) {
    const r = j.result;
    if (!r) continue;
    const d =
      r.duration_s ??
      (r.started_at && r.finished_at ? (Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000 : null);
    if (d !== null && Number.isFinite(d)) out.set(j.id, d);
  }
  return out;
}

const cell = (v: number | null | undefined, digits = 3) =>
  `<td>${v === null || v === undefined || !Number.isFinite(v) ? '<span class="muted">–</span>' : esc(formatNumber(v, digits))}</td>`;

function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '<td><span class="muted">–</span></td>';
  return `<td>${esc(v >= 120 ? `${formatNumber(v / 60, 3)} min` : `${formatNumber(v, 3)} s`)}</td>`;
}

/** The classical rows in the comparison's shape, so the report's dose-trend chart can draw them. */
function asComparisonRows(rows: readonly ClassicalRow[]): ComparisonRow[] {
  return rows
    .filter((r) => r.state === 'done' || r.state === 'cancelled')
    .map((r) => ({
      ...missingRow(
        {
          id: r.job_id,
          dose: r.dose,
          view: r.view,
          gridsize: VIEW_GRIDSIZE[r.view],
          jobStatus: r.state,
          finalLoss: r.final_error,
        },
        'not_run',
        '',
      ),
      state: 'evaluated' as const,
      reason: null,
      phase_mae_skill: r.phase_mae_skill,
      amp_mae_skill: r.amp_mae_skill,
      phase_ssim: r.phase_ssim,
      amp_ssim: r.amp_ssim,
      phase_mae: r.phase_mae,
      amp_mae: r.amp_mae,
    }));
}

/** Both arms' skill against dose, one chart per arm and channel on the same fixed 0–1 axes. */
function trendCharts(pinn: readonly ComparisonRow[], classical: readonly ClassicalRow[]): string {
  const unit = { range: { lo: 0, hi: 1 } };
  const cl = asComparisonRows(classical);
  const scored = pinn.filter((r) => r.state === 'evaluated');
  return [
    doseTrendSvg(scored, 'phase_mae_skill', 'PtychoPINN phase skill', 'higher', unit),
    doseTrendSvg(cl, 'phase_mae_skill', 'classical phase skill', 'higher', unit),
    doseTrendSvg(scored, 'amp_mae_skill', 'PtychoPINN amplitude skill', 'higher', unit),
    doseTrendSvg(cl, 'amp_mae_skill', 'classical amplitude skill', 'higher', unit),
  ].join('');
}

const HEATMAP_METRICS = [
  { key: 'phase_mae_skill', label: 'classical phase skill (MAE)' },
  { key: 'amp_mae_skill', label: 'classical amplitude skill (MAE)' },
  { key: 'phase_ssim', label: 'classical phase SSIM' },
  { key: 'amp_ssim', label: 'classical amplitude SSIM' },
] as const;

/** Dose × view heat maps of the classical arm, on the PtychoPINN maps' fixed 0–1 range. */
export function classicalHeatmaps(
  classical: ClassicalFile | null,
  doses: readonly number[],
  views: readonly string[],
): { name: string; label: string; png: Buffer }[] {
  if (!classical?.rows.length) return [];
  const cell = (d: number, v: string) => classical.rows.find((r) => r.dose === d && r.view === v);
  return HEATMAP_METRICS.map((m) => ({
    name: `heatmap_classical_${m.key}.png`,
    label: m.label,
    png: renderHeatmap({
      title: m.label,
      subtitle: 'higher is better (bright = better), fixed range 0 to 1',
      range: { lo: Math.min(0, ...classical.rows.map((r) => r[m.key] ?? 0)), hi: 1 },
      rowLabels: doses.map(formatDose),
      colLabels: views.map((v) => `${v}\nclassical`),
      values: doses.map((d) => views.map((v) => cell(d, v)?.[m.key] ?? null)),
      nullLabels: doses.map((d) => views.map((v) => (cell(d, v) ? 'n/a' : 'missing'))),
      formatCell: (v) => formatNumber(v, 4),
      rowAxis: 'dose',
      colAxis: 'view',
    }),
  }));
}

export interface ClassicalSectionInput {
  rows: readonly ComparisonRow[];
  classical: ClassicalFile | null;
  /** PtychoPINN time per job id. */
  pinnTiming: ReadonlyMap<string, PinnTiming>;
  /** The classical heat maps written beside report.html (file names). */
  heatmaps?: { label: string; file: string }[];
}

export function classicalSectionHtml(m: ClassicalSectionInput): string {
  const head = '<h2 id="classical">PtychoPINN and the classical arm</h2>';
  if (!m.classical)
    return `${head}<p class="muted">No classical reconstruction in this artifact root yet: run <code>ptycho-study reconstruct --phase-c-root … --phase-d-root … --artifact-root …</code>.</p>`;
  const c = m.classical;
  const p = c.parameters;
  const keys = new Map<string, ClassicalRow>(c.rows.map((r) => [`${r.dose}/${r.view}`, r]));
  const pinnRows = new Map<string, ComparisonRow>(m.rows.map((r) => [`${r.dose}/${r.view}`, r]));
  const pairs = [...new Set([...pinnRows.keys(), ...keys.keys()])]
    .map((k) => ({ k, pinn: pinnRows.get(k), cl: keys.get(k) }))
    .sort(
      (a, b) =>
        (a.pinn?.dose ?? a.cl!.dose) - (b.pinn?.dose ?? b.cl!.dose) ||
        VIEW_NAMES.indexOf(a.pinn?.view ?? a.cl!.view) - VIEW_NAMES.indexOf(b.pinn?.view ?? b.cl!.view),
    );
  const body = pairs
    .map(({ pinn, cl }) => {
      const dose = pinn?.dose ?? cl!.dose;
      const view = pinn?.view ?? cl!.view;
      const t = pinn ? m.pinnTiming.get(pinn.job_id) : undefined;
      const pinnOk = pinn?.state === 'evaluated';
      const clOk = cl?.state === 'done' || cl?.state === 'cancelled';
      const pinnCells = pinnOk
        ? `${cell(pinn.phase_mae_skill)}${cell(pinn.amp_mae_skill)}${cell(pinn.phase_ssim, 4)}${cell(pinn.amp_ssim, 4)}${seconds(t?.train_s)}${seconds(t?.inference_s)}`
        : `<td class="l muted" colspan="6">${esc(pinn ? `${pinn.state}: ${pinn.reason ?? ''}` : 'not in the design')}</td>`;
      const clCells = clOk
        ? `${cell(cl.phase_mae_skill)}${cell(cl.amp_mae_skill)}${cell(cl.phase_ssim, 4)}${cell(cl.amp_ssim, 4)}${seconds(cl.seconds)}${cell(cl.iterations, 6)}`
        : `<td class="l muted" colspan="6">${esc(cl ? `${cl.state}: ${cl.reason ?? ''}` : 'not reconstructed yet')}</td>`;
      return `<tr><td class="l">${esc(formatDose(dose))}</td><td class="l">${esc(view)}</td>${pinnCells}${clCells}</tr>`;
    })
    .join('');
  const sub = '<th>phase skill</th><th>amplitude skill</th><th>phase SSIM</th><th>amplitude SSIM</th>';
  return `${head}
<p>The same test split of every (dose, view), reconstructed by PtychoPINN (trained on the view's training split) and by a classical iterative reconstruction of its diffraction alone (no training), scored through the same crop, registration, alignment, metrics and constant-guess baseline. Where the classical arm is good and PtychoPINN is not, the network has not learned; where both are poor, the data at that dose and overlap cannot support a better image.</p>
<p class="small">Classical arm: <b>${esc(p.algorithm)}</b>, ${p.iterations} iterations, object step α ${esc(String(p.alpha))}, probe step β ${esc(String(p.beta))}${p.delta !== undefined ? ` (fractions of LSQML's least-squares steps), δ ${esc(String(p.delta))}, amplitude TV prior ${esc(String(p.tv ?? 0))}${p.tv ? ` (ε ${esc(String(p.tv_epsilon))})` : ''}` : ''}, probe update ${p.probe_update ? `from iteration ${p.probe_update_start + 1}` : 'off'}, seed ${p.seed}; initial probe = the file's probeGuess, initial object 1 + 0i; ${esc(p.engine)}. Also in <code>classical.json</code> / <code>classical.csv</code>.</p>
<div style="overflow-x:auto"><table><tr><th class="l" rowspan="2">dose</th><th class="l" rowspan="2">view</th><th colspan="6">PtychoPINN</th><th colspan="6">classical (${esc(p.algorithm)})</th></tr>
<tr>${sub}<th>training</th><th>inference</th>${sub}<th>time</th><th>iterations</th></tr>${body}</table></div>
<p class="small muted">Skill (MAE) against dose, per view: PtychoPINN and the classical arm on the same fixed 0–1 axes.</p>
<div class="grid">${trendCharts(m.rows, c.rows)}</div>
${m.heatmaps?.length ? `<p class="small muted">The classical arm's heat maps (dose × view), on the same fixed 0–1 colour range as PtychoPINN's below.</p><div class="grid">${m.heatmaps.map((h) => `<figure style="margin:0"><img src="${esc(h.file)}" alt="${esc(h.label)} heat map"></figure>`).join('')}</div>` : ''}`;
}
