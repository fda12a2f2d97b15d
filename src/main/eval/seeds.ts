/**
 * Repeated seeds: `train --seeds 1,2,3` trains the study once per seed into
 * `<artifact_root>/seed_<s>/` (each a complete artifact root with its own manifest).
 * `evaluate` and `report` on the parent evaluate each seed's root and write one comparison
 * whose rows are the mean over seeds, with the seeds listed and the spread (sample standard
 * deviation) of the skill, so plots can draw error bars and say what is noise.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { COMPARISON_JSON, ComparisonFile, type ComparisonRow, REPORT_DIR, REPORT_HTML } from '../../shared/evaluation';
import { writeFileAtomic } from '../data/atomic';
import { buildComparison, writeComparison } from './comparison';
import { writeHeatmaps } from './report/build';
import { renderReportHtml } from './report/html';

export const SEED_DIR = /^seed_(\d+)$/;
const MANIFEST = 'training_manifest.json';

/** `<root>/seed_<s>` folders holding a manifest, in seed order; empty when root is a plain artifact root. */
export function seedRoots(root: string): { seed: number; root: string }[] {
  const abs = resolve(root);
  if (!existsSync(abs) || existsSync(join(abs, MANIFEST))) return [];
  return readdirSync(abs)
    .flatMap((name) => {
      const m = SEED_DIR.exec(name);
      return m && existsSync(join(abs, name, MANIFEST)) ? [{ seed: Number(m[1]), root: join(abs, name) }] : [];
    })
    .sort((a, b) => a.seed - b.seed);
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const sd = (v: number[]) =>
  v.length < 2 ? null : Math.sqrt(v.reduce((s, x) => s + (x - mean(v)) ** 2, 0) / (v.length - 1));

/** One row per job: the mean over the seeds that scored it, their list, and the skill's spread. */
export function aggregateSeeds(
  root: string,
  perSeed: { seed: number; comparison: ComparisonFile }[],
  now: Date,
): ComparisonFile {
  const first = perSeed[0].comparison;
  const rows: ComparisonRow[] = first.rows.map((template) => {
    const scored = perSeed.flatMap(({ seed, comparison }) => {
      const r = comparison.rows.find((x) => x.job_id === template.job_id && x.state === 'evaluated');
      return r ? [{ seed, r }] : [];
    });
    if (!scored.length) {
      const reasons = perSeed.map(({ seed, comparison }) => {
        const r = comparison.rows.find((x) => x.job_id === template.job_id);
        return `seed ${seed}: ${r?.reason ?? r?.state ?? 'absent'}`;
      });
      return { ...template, reason: reasons.join('; '), seeds: [] };
    }
    const out: Record<string, unknown> = { ...scored[0].r };
    for (const [k, v] of Object.entries(scored[0].r)) {
      if (typeof v !== 'number' || k === 'dose' || k === 'gridsize') continue;
      const vals = scored.map(({ r }) => r[k as keyof ComparisonRow]).filter((x): x is number => typeof x === 'number');
      out[k] = vals.length ? mean(vals) : null;
    }
    const skills = (k: 'phase_mae_skill' | 'amp_mae_skill') =>
      scored.map(({ r }) => r[k]).filter((x): x is number => typeof x === 'number');
    return {
      ...(out as ComparisonRow),
      eval_path: null,
      reason: null,
      seeds: scored.map((s) => s.seed),
      not_converged: scored.some(({ r }) => r.not_converged),
      registration_at_cap: scored.some(({ r }) => r.registration_at_cap),
      phase_mae_skill_sd: sd(skills('phase_mae_skill')),
      amp_mae_skill_sd: sd(skills('amp_mae_skill')),
    };
  });
  return buildComparison(resolve(root), first.doses, first.views, rows, now);
}

/** The parent's comparison.json written by evaluate, or null. */
export function readComparisonFile(root: string): ComparisonFile | null {
  const path = join(resolve(root), COMPARISON_JSON);
  if (!existsSync(path)) return null;
  return ComparisonFile.parse(JSON.parse(readFileSync(path, 'utf8')));
}

export async function writeSeedsComparison(root: string, c: ComparisonFile) {
  return writeComparison(resolve(root), c);
}

/** The parent's report: the mean over seeds with error bars, and links to each seed's own report. */
export async function writeSeedsReport(
  root: string,
  comparison: ComparisonFile,
  seeds: { seed: number; root: string }[],
  now: Date,
): Promise<{ htmlPath: string; files: string[]; reportDir: string }> {
  const dir = join(resolve(root), REPORT_DIR);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, data: Buffer | string) => {
    const path = join(dir, name);
    await writeFileAtomic(path, typeof data === 'string' ? data : [new Uint8Array(data)]);
    files.push(path);
    return name;
  };
  const heatmaps = await writeHeatmaps(comparison, write);
  const html = renderReportHtml({
    artifactRoot: resolve(root),
    generatedAt: now.toISOString(),
    comparison,
    heatmaps,
    jobs: [],
    parameters: null,
    seeds: seeds.map((s) => ({ seed: s.seed, report: `../seed_${s.seed}/${REPORT_DIR}/${REPORT_HTML}` })),
  });
  await write(REPORT_HTML, html);
  return { htmlPath: join(dir, REPORT_HTML), files, reportDir: dir };
}
