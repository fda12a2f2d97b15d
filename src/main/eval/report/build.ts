/**
 * `ptycho-study report`: from whatever the artifact root holds (manifest, eval.json and
 * recon.npz per job, events.jsonl), write `<artifact_root>/report/` — heat maps per metric,
 * amplitude / phase / error pictures per scored job, and report.html with the loss curves.
 * Nothing is trained or inferred here; jobs without a score are listed with the reason.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  COMPARISON_METRICS,
  type ComparisonFile,
  type ComparisonMetric,
  metricRange,
  type EvalFile,
  REPORT_DIR,
  REPORT_HTML,
} from '../../../shared/evaluation';
import {
  classicalHeatmaps,
  classicalSectionHtml,
  type PinnTiming,
  trainingSeconds,
} from '../../classical/report-section';
import { readClassicalFileSync } from '../../classical/study';
import { removeStaleTempFiles, writeFileAtomic } from '../../data/atomic';
import { loadStudyFile } from '../../data/study-file';
import { alignForEvaluation, type AlignmentOptions, DEFAULT_ALIGNMENT } from '../align';
import { evalPathOf, objectOf, reconPathOf } from '../job-eval';
import { readReconFile } from '../recon-file';
import { formatDose, formatNumber, formatPeriod } from '../render/format';
import { renderHeatmap } from '../render/heatmap';
import { collectComparison, type PathCheck, readEvalFile, requireManifest, studyJobs } from '../study-eval';
import { type ReportJob, type ReportModel, renderReportHtml } from './html';
import { readPresetRecord } from '../../study/estimate';
import { reportNeededReason, reportStamp, STAMP_FILE } from './inputs-stamp';
import { renderJobFigures } from './job-figures';
import { lossSvg, readLossSeries } from './loss-svg';

export interface BuildReportOptions {
  artifactRoot: string;
  now?: () => Date;
  onProgress?: (message: string) => void;
  /** Paths from the manifest and eval.json are followed only when this accepts them (browser mode). */
  confine?: PathCheck;
  /** Draw the report even when it is up to date with its inputs. */
  force?: boolean;
}

export interface BuildReportResult {
  reportDir: string;
  htmlPath: string;
  /** Every file written, absolute. */
  files: string[];
  comparison: ComparisonFile;
  /** The report was already drawn from exactly these inputs and was kept. */
  upToDate?: boolean;
}

/** What the colour bar spans, in words (a fixed range, the constant guess, or just the values shown). */
/** Drawn with the figures' bitmap font: only characters it has (no ';', no apostrophe, no en dash). */
export function rangeCaption(m: ComparisonMetric, range: { lo: number; hi: number } | null): string {
  if (!range) return 'colours span only the values shown, small differences may be noise';
  if (m.range === 'unit') return `fixed range ${formatNumber(range.lo, 3)} to ${formatNumber(range.hi, 3)}`;
  return 'range 0 to the constant guess score';
}

/** Recover the alignment options an eval.json was computed with, so pictures match the scores. */
function alignmentOf(e: EvalFile): AlignmentOptions {
  const p = e.parameters;
  const num = (k: string, d: number) => (typeof p[k] === 'number' ? (p[k] as number) : d);
  const reg = typeof p.registration === 'string' ? p.registration : '';
  return {
    stitchCrop: num('stitch_crop_px', DEFAULT_ALIGNMENT.stitchCrop),
    register: reg !== 'off',
    upsampleFactor: num('upsample_factor', DEFAULT_ALIGNMENT.upsampleFactor),
    registrationMethod: reg.startsWith('skimage') ? 'phase' : 'windowed-xcorr',
    maxShiftPx: num('max_registration_shift_px', DEFAULT_ALIGNMENT.maxShiftPx),
    registrationBorderPx: e.alignment.registration_border_px || DEFAULT_ALIGNMENT.registrationBorderPx,
    trimPx: e.alignment.trim_px,
    phaseAlign: e.alignment.phase_align,
  };
}

/** One heat map PNG per metric of the comparison, written through `write`; returns what the page shows. */
export async function writeHeatmaps(
  comparison: ComparisonFile,
  write: (name: string, data: Buffer) => Promise<string>,
): Promise<ReportModel['heatmaps']> {
  const heatmaps: { key: string; label: string; better: string; file: string }[] = [];
  for (const m of COMPARISON_METRICS) {
    const values = comparison.doses.map((d) =>
      comparison.views.map((v) => comparison.rows.find((r) => r.dose === d && r.view === v)?.[m.key] ?? null),
    );
    const nullLabels = comparison.doses.map((d) =>
      comparison.views.map((v) => {
        const row = comparison.rows.find((r) => r.dose === d && r.view === v);
        return row?.state === 'evaluated' ? 'n/a' : 'missing';
      }),
    );
    const range = metricRange(m, comparison.rows);
    const png = renderHeatmap({
      nullLabels,
      title: m.label,
      subtitle: `${m.better} is better (bright = better), ${rangeCaption(m, range)}`,
      range: range ?? undefined,
      rowLabels: comparison.doses.map(formatDose),
      colLabels: comparison.views.map((v) => `${v}\ngridsize ${v === 'baseline' ? 1 : 2}`),
      reverse: m.better === 'lower',
      formatCell: m.key.endsWith('_period_px') ? formatPeriod : (v) => formatNumber(v, 4),
      rowAxis: 'dose',
      colAxis: 'view',
      values,
    });
    heatmaps.push({ key: m.key, label: m.label, better: m.better, file: await write(`heatmap_${m.key}.png`, png) });
  }

  return heatmaps;
}

export async function buildReport(opts: BuildReportOptions): Promise<BuildReportResult> {
  const root = resolve(opts.artifactRoot);
  const now = opts.now ?? (() => new Date());
  const manifest = requireManifest(root);
  const comparison = collectComparison(root, manifest, now(), opts.confine);
  const dir = join(root, REPORT_DIR);
  mkdirSync(dir, { recursive: true });
  removeStaleTempFiles(dir); // left by a report build that was killed
  const stamp = reportStamp(root, dir, manifest.phase_c_root ?? null);
  const needed = opts.force ? 'forced' : reportNeededReason(dir, REPORT_HTML, stamp);
  if (needed === null) {
    opts.onProgress?.('report up to date: no input changed since it was drawn');
    const kept = readdirSync(dir)
      .filter((n) => n !== STAMP_FILE && !n.endsWith('.tmp'))
      .map((n) => join(dir, n));
    return { reportDir: dir, htmlPath: join(dir, REPORT_HTML), files: kept, comparison, upToDate: true };
  }
  opts.onProgress?.(`drawing the report: ${needed}`);
  const files: string[] = [];
  const write = async (name: string, data: Buffer | string) => {
    const path = join(dir, name);
    await writeFileAtomic(path, typeof data === 'string' ? data : [new Uint8Array(data)]);
    files.push(path);
    return name;
  };

  const heatmaps = await writeHeatmaps(comparison, write);

  const jobs: ReportJob[] = [];
  let parameters: Record<string, unknown> | null = null;
  for (const ref of studyJobs(manifest, opts.confine)) {
    const row = comparison.rows.find((r) => r.job_id === ref.row.id);
    if (!row) continue;
    const entry = ref.outside ? null : ref.entry;
    const series = entry
      ? readLossSeries(entry.events_path)
      : { steps: [], epochs: [], status: null, reference: { meanPattern: null, floor: null } };
    const job: ReportJob = {
      row,
      eval: null,
      figures: null,
      lossSvg: lossSvg(series, `${row.job_id} loss`),
    };
    if (row.state === 'evaluated' && entry) {
      const e = readEvalFile(evalPathOf({ artifactDir: entry.artifact_dir }));
      job.eval = e;
      if (e) {
        parameters ??= e.parameters;
        opts.onProgress?.(`drawing ${row.job_id}`);
        try {
          const reconPath = reconPathOf({ artifactDir: entry.artifact_dir });
          if (!existsSync(reconPath)) throw new Error(`${reconPath} is missing`);
          const recon = await readReconFile(reconPath);
          opts.confine?.(e.test_data_path);
          const gt = objectOf(await loadStudyFile(e.test_data_path));
          const aligned = alignForEvaluation(
            { recon: recon.recon, weight: recon.weight, groundTruth: gt, xs: recon.xs, ys: recon.ys },
            alignmentOf(e),
          );
          const f = renderJobFigures(aligned, aligned.uncovered, row);
          job.figures = {
            amplitude: await write(`${row.job_id}_amplitude.png`, f.amplitude),
            phase: await write(`${row.job_id}_phase.png`, f.phase),
            error: await write(`${row.job_id}_error.png`, f.error),
          };
        } catch (err) {
          job.figureError = err instanceof Error ? err.message : String(err);
        }
      }
    }
    jobs.push(job);
  }

  const trained = trainingSeconds(manifest);
  const pinnTiming = new Map<string, PinnTiming>(
    jobs.map((j) => [
      j.row.job_id,
      { train_s: trained.get(j.row.job_id) ?? null, inference_s: j.eval?.inference?.seconds ?? null },
    ]),
  );
  const classical = readClassicalFileSync(root);
  const classicalMaps: { label: string; file: string }[] = [];
  for (const h of classicalHeatmaps(classical, comparison.doses, comparison.views))
    classicalMaps.push({ label: h.label, file: await write(h.name, h.png) });
  const classicalHtml = classicalSectionHtml({ rows: comparison.rows, classical, pinnTiming, heatmaps: classicalMaps });
  const html = renderReportHtml({
    artifactRoot: root,
    generatedAt: now().toISOString(),
    comparison,
    heatmaps,
    jobs,
    parameters,
    preset: readPresetRecord(manifest.phase_c_root)?.name ?? manifest.design.name,
    classicalHtml,
  });
  const htmlPath = join(dir, REPORT_HTML);
  await write(REPORT_HTML, html);
  await writeFileAtomic(join(dir, STAMP_FILE), JSON.stringify(stamp));
  return { reportDir: dir, htmlPath, files, comparison };
}
