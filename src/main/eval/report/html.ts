/**
 * The offline HTML report: one self-contained page (inline CSS and SVG, no script, no
 * network) that references its PNGs by relative path in the same folder, so the folder can
 * be zipped, mailed and opened anywhere.
 */
import { COMPARISON_METRICS, type ComparisonFile, type ComparisonRow, type EvalFile } from '../../../shared/evaluation';
import { formatDose, formatNumber, formatPeriod } from '../render/format';
import { doseTrendSvg, frcSvg } from './charts-svg';
import { skillTrend } from './trend';

export interface ReportJob {
  row: ComparisonRow;
  eval: EvalFile | null;
  figures: { amplitude: string; phase: string; error: string } | null;
  lossSvg: string;
  /** Why pictures could not be drawn although the job was scored. */
  figureError?: string;
}

export interface ReportModel {
  artifactRoot: string;
  generatedAt: string;
  comparison: ComparisonFile;
  heatmaps: { key: string; label: string; better: string; file: string }[];
  jobs: ReportJob[];
  parameters: Record<string, unknown> | null;
  /** The study preset the data and budgets came from, when known ('demo', 'trend', 'paper'). */
  preset?: string | null;
  /** Repeated seeds: rows are means over them; each seed's own report is linked. */
  seeds?: { seed: number; report: string }[];
  /** The side-by-side section of PtychoPINN and the classical arm, pre-rendered. */
  classicalHtml?: string;
}

export const esc = (s: string) =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const STATE_TEXT: Record<string, string> = {
  evaluated: 'evaluated',
  not_run: 'never run',
  not_trained: 'not trained',
  no_model: 'no model',
  eval_failed: 'not evaluated',
  stale: 'stale',
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1200px;color:#1b1b1b;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}.muted{color:#666}.small{font-size:12px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f5f5f5}td.l,th.l{text-align:left}tr.missing td{color:#888;background:#fafafa}
.grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.grid img{max-width:100%;border:1px solid #eee}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin:14px 0}
.note{background:#fff8e1;border-left:4px solid #f0c040;padding:6px 10px;margin:10px 0}
.flag{background:#fdecea;color:#a12622;border-radius:3px;padding:0 4px;font-size:11px;white-space:nowrap}
code{background:#f3f3f3;padding:0 3px;border-radius:3px}
`;

function metricCell(v: number | null, digits = 4): string {
  return `<td>${v === null ? '<span class="muted">–</span>' : esc(formatNumber(v, digits))}</td>`;
}

function periodCell(v: number | null): string {
  return `<td title="FRC period in pixels; ≤2 = the curve stays above the threshold up to Nyquist">${v === null ? '<span class="muted">–</span>' : esc(formatPeriod(v))}</td>`;
}

function skillCell(r: ComparisonRow | undefined): string {
  if (r?.state !== 'evaluated')
    return `<td class="muted" title="${esc(r?.reason ?? '')}">${esc(STATE_TEXT[r?.state ?? 'not_run'])}</td>`;
  const v = r.phase_mae_skill;
  const sd = r.phase_mae_skill_sd;
  const flag = r.not_converged
    ? ' <span class="flag" title="MAE skill ≤ 0.05: no better than a constant image">not converged</span>'
    : '';
  return `<td>${v === null ? '<span class="muted">–</span>' : esc(formatNumber(v, 3))}${sd !== null ? ` ± ${esc(formatNumber(sd, 2))}` : ''}${flag}</td>`;
}

function trendSection(m: ReportModel): string {
  const rows = m.comparison.rows;
  const unit = { lo: 0, hi: 1 };
  const charts = [
    doseTrendSvg(rows, 'phase_mae_skill', 'phase skill (MAE; 0 = constant)', 'higher', {
      range: unit,
      sdKey: 'phase_mae_skill_sd',
    }),
    doseTrendSvg(rows, 'amp_mae_skill', 'amplitude skill (MAE; 0 = constant)', 'higher', {
      range: unit,
      sdKey: 'amp_mae_skill_sd',
    }),
    doseTrendSvg(rows, 'phase_mae', 'phase MAE (rad)', 'lower', {
      range: { lo: 0, hi: 0 },
      baselineKey: 'phase_mae_baseline',
    }),
    doseTrendSvg(rows, 'phase_ssim', 'phase SSIM', 'higher', { range: unit, baselineKey: 'phase_ssim_baseline' }),
  ];
  const doses = m.comparison.doses;
  const views = m.comparison.views;
  const cell = (dose: number, view: string) => rows.find((r) => r.dose === dose && r.view === view);
  const table = [
    '<table><tr><th class="l">phase skill (MAE)</th>',
    ...doses.map((d) => `<th>dose ${esc(formatDose(d))}</th>`),
    '</tr>',
    ...views.map(
      (v) =>
        `<tr><td class="l">${esc(v)} (gs${v === 'baseline' ? 1 : 2})</td>${doses.map((d) => skillCell(cell(d, v))).join('')}</tr>`,
    ),
    '</table>',
  ].join('');
  const verdicts = views
    .flatMap((v) => [
      skillTrend(rows, v, 'phase_mae_skill', 'phase skill'),
      skillTrend(rows, v, 'amp_mae_skill', 'amplitude skill'),
    ])
    .filter((t) => t.kind !== 'too-few' || rows.some((r) => r.view === t.view && r.state === 'evaluated'));
  const notConverged = rows.filter((r) => r.not_converged);
  const atCap = rows.filter((r) => r.registration_at_cap);
  const demo =
    m.preset === 'demo'
      ? '<p class="note"><b>Demo preset.</b> This study is a smoke test sized to run in seconds: its models are far too short-trained to show a dose trend, and none of its numbers is a result. Use the <code>trend</code> preset to see the dose trend.</p>'
      : '';
  return `<h2 id="trend">Dose trend</h2>
${demo}<p>How reconstruction quality on the held-out test split depends on photon dose, per overlap view, stated as <b>skill</b>:
(constant guess − model) / (constant guess − perfect) per metric, where the constant guess and the ground truth are scored through exactly the same pipeline.
0 = no better than a flat image, 1 = perfect. Raw SSIM is not a result on its own here: a flat phase image scores 0.72–0.76.</p>
${table}
<ul class="small">${verdicts.map((t) => `<li>${esc(t.text)}</li>`).join('')}</ul>
${notConverged.length ? `<p class="note"><b>Not converged</b> (MAE skill ≤ 0.05 on amplitude or phase: no better than a constant image): ${notConverged.map((r) => esc(r.job_id)).join(', ')}.</p>` : ''}
${atCap.length ? `<p class="note"><b>Registration at its cap</b> (the total shift reached the limit, so the correlation peak may lie beyond it and the alignment is suspect): ${atCap.map((r) => esc(r.job_id)).join(', ')}.</p>` : ''}
<p class="small muted">Skill axes are fixed at 0–1; error axes run from 0 and always include the constant guess (dashed); error bars are ± the spread over repeated seeds where seeds were repeated.</p>
<div class="grid">${charts.join('')}</div>`;
}

function heatmapSection(m: ReportModel): string {
  if (!m.heatmaps.length) return '';
  return `<h2 id="heatmaps">Heat maps (dose × view)</h2>
<p class="small muted">Every map has a colour bar. Skill and SSIM maps use the fixed range 0–1 and error maps run from 0 to the constant guess's score, so a difference in colour is a difference in quality; maps marked "colours span only the values shown" (PSNR, FRC) stretch small differences and may show noise. Grey cells have no score (the reason is in the table below).</p>
<div class="grid">${m.heatmaps
    .map((h) => `<figure style="margin:0"><img src="${esc(h.file)}" alt="${esc(h.label)} heat map"></figure>`)
    .join('')}</div>`;
}

function tableSection(m: ReportModel): string {
  const head = `<tr><th class="l">job</th><th class="l">state</th>${COMPARISON_METRICS.map((c) => `<th>${esc(c.label)}</th>`).join('')}<th>coverage</th><th>final loss</th></tr>`;
  const body = m.comparison.rows
    .map((r) =>
      r.state === 'evaluated'
        ? `<tr><td class="l"><a href="#${esc(r.job_id)}">${esc(r.job_id)}</a></td><td class="l">evaluated${r.not_converged ? ' <span class="flag">not converged</span>' : ''}${r.registration_at_cap ? ' <span class="flag">registration at cap</span>' : ''}</td>${COMPARISON_METRICS.map((c) => (c.key.endsWith('_period_px') ? periodCell(r[c.key]) : metricCell(r[c.key]))).join('')}${metricCell(r.coverage, 3)}${metricCell(r.final_loss)}</tr>`
        : `<tr class="missing"><td class="l">${esc(r.job_id)}</td><td class="l">${esc(STATE_TEXT[r.state])}</td><td class="l" colspan="${COMPARISON_METRICS.length + 2}">${esc(r.reason ?? '')}</td></tr>`,
    )
    .join('');
  const n = m.comparison.rows.filter((r) => r.state === 'evaluated').length;
  return `<h2 id="table">All jobs</h2>
<p>${n} of ${m.comparison.rows.length} jobs of the design are scored. The same table is in <code>comparison.csv</code> and <code>comparison.json</code> in the artifact root.</p>
<div style="overflow-x:auto"><table>${head}${body}</table></div>`;
}

function jobSection(j: ReportJob): string {
  const r = j.row;
  const e = j.eval;
  if (!e) {
    // trained (or tried) but not scored: still show why, and the loss curve it left
    if (r.state === 'not_run') return '';
    return `<div class="card" id="${esc(r.job_id)}"><h3>${esc(r.job_id)} — dose ${esc(formatDose(r.dose))}, ${esc(r.view)}, gridsize ${r.gridsize}</h3>
<p class="note">Not scored (${esc(STATE_TEXT[r.state])}): ${esc(r.reason ?? '')}</p><div class="grid">${j.lossSvg}</div></div>`;
  }
  const a = e.alignment;
  const ch = (name: string, c: EvalFile['metrics']['amplitude']) => {
    const cross = (t: number) => c.frc?.crossings.find((x) => Math.abs(x.threshold - t) < 1e-9) ?? null;
    const frcCell = (t: number) => {
      const x = cross(t);
      // a crossing at ring ≤ 1 means the curve is under the threshold from the first ring on
      if (x && x.ring !== null && x.ring <= 1)
        return `<td title="the FRC is below ${t === 0.5 ? '0.5' : '1/7'} from the first ring: nothing is resolved at this threshold">below ${t === 0.5 ? '0.5' : '1/7'} from the first ring</td>`;
      return periodCell(x?.period_px ?? null);
    };
    return `<tr><td class="l">${name}</td>${metricCell(c.mae)}${metricCell(c.mse)}${metricCell(c.psnr)}${metricCell(c.ssim)}${metricCell(c.ms_ssim)}${frcCell(0.5)}${frcCell(1 / 7)}</tr>`;
  };
  const sk = e.skill;
  const skillRow = (name: string, k: NonNullable<EvalFile['skill']>['amplitude'] | undefined) =>
    k
      ? `<tr><td class="l">${name}</td>${metricCell(k.mae, 3)}${metricCell(k.mse, 3)}<td class="muted">–</td>${metricCell(k.ssim, 3)}${metricCell(k.ms_ssim, 3)}${metricCell(k.frc50_period_px, 3)}<td class="muted">–</td></tr>`
      : '';
  const refRow = (name: string, c: EvalFile['metrics']['amplitude'] | undefined) =>
    c
      ? `<tr class="missing"><td class="l">${name}</td>${metricCell(c.mae)}${metricCell(c.mse)}${metricCell(c.psnr)}${metricCell(c.ssim)}${metricCell(c.ms_ssim)}<td></td><td></td></tr>`
      : '';
  const flags = [
    e.not_converged
      ? `<p class="note"><b>Not converged:</b> ${esc(e.not_converged_reason ?? 'MAE skill ≤ 0.05')}.</p>`
      : '',
    a.registration_at_cap
      ? `<p class="note"><b>Registration at its cap</b> (${esc(String(a.max_registration_shift_px ?? ''))} px): the correlation peak may lie beyond it; this alignment is suspect.</p>`
      : '',
    e.reference && !e.reference.ground_truth_perfect
      ? '<p class="note"><b>Pipeline check failed:</b> the ground truth scored through the same pipeline is not perfect.</p>'
      : '',
  ].join('');
  const shift = a.registration_shift
    ? `(${formatNumber(a.registration_shift.dy, 3)}, ${formatNumber(a.registration_shift.dx, 3)}) px`
    : 'off';
  const figs = j.figures
    ? `<div class="grid"><img src="${esc(j.figures.amplitude)}" alt="amplitude"><img src="${esc(j.figures.phase)}" alt="phase"><img src="${esc(j.figures.error)}" alt="error"></div>`
    : `<p class="note">No pictures: ${esc(j.figureError ?? 'reconstruction file unavailable')}</p>`;
  const curves = [
    { label: 'amplitude', curve: e.metrics.amplitude.frc?.curve, color: '#1f4e9c' },
    { label: 'phase', curve: e.metrics.phase.frc?.curve, color: '#c0392b' },
  ].flatMap((c) => (c.curve ? [{ ...c, curve: c.curve }] : []));
  const frc = curves.length
    ? frcSvg(curves, [0.5, 1 / 7])
    : '<p class="muted small">No FRC: no covered square of at least 16 px.</p>';
  return `<div class="card" id="${esc(r.job_id)}"><h3>${esc(r.job_id)} — dose ${esc(formatDose(r.dose))}, ${esc(r.view)}, gridsize ${r.gridsize}</h3>
${flags}<table><tr><th class="l"></th><th>MAE</th><th>MSE</th><th>PSNR (dB)</th><th>SSIM</th><th>MS-SSIM</th><th>FRC 0.5 period (px)</th><th>FRC 1/7 period (px)</th></tr>${ch('amplitude', e.metrics.amplitude)}${ch('phase (rad)', e.metrics.phase)}${skillRow('amplitude skill', sk?.amplitude)}${skillRow('phase skill', sk?.phase)}${refRow('constant guess: amplitude', e.reference?.baseline.amplitude)}${refRow('constant guess: phase', e.reference?.baseline.phase)}</table>
<p class="small">Alignment applied: scan box rows ${a.scan_box.row0}–${a.scan_box.row1}, cols ${a.scan_box.col0}–${a.scan_box.col1};
registration shift ${esc(shift)}${a.max_registration_shift_px !== undefined ? ` (cap ${esc(String(a.max_registration_shift_px))} px on the total shift)` : ''}; ${a.registration_border_px}+${a.trim_px} px trimmed per side; global phase offset ${esc(formatNumber(a.global_phase_offset_rad, 4))} rad removed;
${esc(a.phase_align)} phase alignment; amplitude scaled by ${esc(formatNumber(a.amplitude_scale, 4))}; scored ${a.shape[0]} × ${a.shape[1]} px, ${esc(formatNumber(100 * a.coverage, 3))}% covered by patches.
${e.n_patches} patches from ${e.n_positions} test positions${e.inference ? `; inference ${e.inference.reused_recon ? 'reused recon.npz' : `${formatNumber(e.inference.seconds, 3)} s`}` : ''}.</p>
${figs}<div class="grid">${j.lossSvg}${frc}</div></div>`;
}

function methodsSection(m: ReportModel): string {
  const params = m.parameters
    ? `<table>${Object.entries(m.parameters)
        .map(
          ([k, v]) =>
            `<tr><td class="l"><code>${esc(k)}</code></td><td class="l">${esc(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`,
        )
        .join('')}</table>`
    : '<p class="muted">No job evaluated yet.</p>';
  return `<h2 id="methods">How the scores were computed</h2>
<p>Each trained model reconstructs its test split; the central ${esc(String(m.parameters?.stitch_crop_px ?? 20))} × ${esc(String(m.parameters?.stitch_crop_px ?? 20))} px of every predicted patch is placed at its scan position on the ground-truth object's grid, and overlaps are averaged.
Before scoring, as in the original study's comparison: crop to the scan box, sub-pixel registration, border trims, removal of a global phase offset and a fitted phase plane, and mean-scaling of the predicted amplitude.</p>
<p class="note"><b>PSNR</b> uses the target's data range (max − min) as the peak, as scikit-image defines it. The original study passed radians and 0–1 amplitudes to <code>cv2.PSNR</code> with its fixed peak of 255, so its PSNR values are not comparable with these.</p>
<p class="note"><b>Registration</b> uses plain cross-correlation of mean-free, Hann-windowed magnitudes (upsample factor 50). The original's phase-normalised correlation of raw crops locks onto the crops' shared borders and misses real shifts.</p>
${params}`;
}

export function renderReportHtml(m: ReportModel): string {
  const evaluated = m.jobs.filter((j) => j.eval);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PtychoPINN dose/overlap study — reconstruction report</title><style>${CSS}</style></head>
<body>
<h1>PtychoPINN dose / overlap study — reconstruction quality</h1>
<p class="muted small">Artifact root <code>${esc(m.artifactRoot)}</code> · generated ${esc(m.generatedAt)} · ${evaluated.length} of ${m.comparison.rows.length} jobs scored</p>
<p class="small"><a href="#trend">Dose trend</a> · <a href="#classical">Classical arm</a> · <a href="#heatmaps">Heat maps</a> · <a href="#table">All jobs</a> · <a href="#jobs">Per job</a> · <a href="#methods">Methods</a></p>
${m.seeds?.length ? `<p class="note">Mean over ${m.seeds.length} seeds (± = the spread between seeds). Each seed's report, with its pictures and loss curves: ${m.seeds.map((x) => `<a href="${esc(x.report)}">seed ${x.seed}</a>`).join(' · ')}.</p>` : ''}
${trendSection(m)}
${m.classicalHtml ?? ''}
${heatmapSection(m)}
${tableSection(m)}
<h2 id="jobs">Per job: reconstructions, errors, loss curves</h2>
${evaluated.length ? '' : '<p class="muted">No job has been evaluated yet: run <code>ptycho-study evaluate --artifact-root …</code>.</p>'}
${m.jobs.map(jobSection).join('\n')}
${methodsSection(m)}
</body></html>
`;
}
