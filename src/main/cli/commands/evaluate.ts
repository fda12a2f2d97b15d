/**
 * `ptycho-study evaluate --artifact-root A`: Phase G for every trained job of the study —
 * reconstruct its test split through its model.onnx, stitch, align, score — writing
 * recon.npz and eval.json per job and comparison.{json,csv} in A. Jobs that cannot be scored
 * yet are listed with the reason (exit 0); an evaluation that fails exits 1.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ComparisonFile, ComparisonRow } from '../../../shared/evaluation';
import { formatNumber } from '../../eval/render/format';
import { aggregateSeeds, seedRoots, writeSeedsComparison } from '../../eval/seeds';
import { NOT_EVALUATED } from '../../eval/study-eval';
import { WorkbenchService } from '../../service/workbench-service';
import { CliExit, printJson } from '../output';
import { ACCELERATORS, type Accelerator } from '../../../shared/knobs';

interface EvaluateOptions {
  artifactRoot: string;
  job?: string[];
  force?: boolean;
  accelerator?: Accelerator;
  json?: boolean;
}

const collect = (v: string, previous: string[] = []) => [...previous, ...v.split(',').filter(Boolean)];

function skillText(row: ComparisonRow): string {
  const sd = (v: number | null) => (v === null ? '' : ` ± ${formatNumber(v, 2)}`);
  return `phase skill ${formatNumber(row.phase_mae_skill, 3)}${sd(row.phase_mae_skill_sd)}, amplitude skill ${formatNumber(row.amp_mae_skill, 3)}${sd(row.amp_mae_skill_sd)}${row.not_converged ? '  NOT CONVERGED' : ''}${row.registration_at_cap ? '  registration at cap' : ''}`;
}

/** `<root>/seed_<s>/` roots from `train --seeds`: evaluate each, then write their mean ± spread in root. */
async function runEvaluateSeeds(o: EvaluateOptions, seeds: { seed: number; root: string }[]): Promise<number> {
  const service = new WorkbenchService({ transport: 'cli', workspace: null });
  const per: { seed: number; comparison: ComparisonFile }[] = [];
  let failedCount = 0;
  for (const s of seeds) {
    if (!o.json) console.log(`Seed ${s.seed} (${s.root}):`);
    const r = await service.evaluation.evaluateStudy({
      artifactRoot: s.root,
      jobIds: o.job,
      force: o.force,
      accelerator: o.accelerator,
      onProgress: o.json ? undefined : (m) => console.log(`  ${m}`),
    });
    failedCount += r.comparison.rows.filter(
      (row) => row.state === 'eval_failed' && row.reason !== NOT_EVALUATED,
    ).length;
    per.push({ seed: s.seed, comparison: r.comparison });
  }
  const agg = aggregateSeeds(o.artifactRoot, per, new Date());
  const files = await writeSeedsComparison(o.artifactRoot, agg);
  if (o.json) {
    printJson({ comparison: agg, comparisonJson: files.json, comparisonCsv: files.csv });
    return failedCount ? 1 : 0;
  }
  console.log(`\nMean over seeds ${seeds.map((s) => s.seed).join(', ')} (± = spread between seeds):`);
  for (const row of agg.rows.filter((r) => r.seeds.length))
    console.log(`  ${row.job_id.padEnd(26)} ${skillText(row)}  (${row.seeds.length} seed(s))`);
  console.log(`  → ${files.json}\n  → ${files.csv}`);
  return failedCount ? 1 : 0;
}

export async function runEvaluate(o: EvaluateOptions): Promise<number> {
  const seeds = seedRoots(o.artifactRoot);
  if (seeds.length) return runEvaluateSeeds(o, seeds);
  const service = new WorkbenchService({ transport: 'cli', workspace: null });
  const r = await service.evaluation.evaluateStudy({
    artifactRoot: o.artifactRoot,
    jobIds: o.job,
    force: o.force,
    accelerator: o.accelerator,
    onProgress: o.json ? undefined : (m) => console.log(`  ${m}`),
  });
  const failed = r.comparison.rows.filter((row) => row.state === 'eval_failed' && row.reason !== NOT_EVALUATED);
  if (o.json) {
    printJson(r);
    return failed.length ? 1 : 0;
  }
  const scored = r.comparison.rows.filter((row) => row.state === 'evaluated');
  const kept = r.upToDate.length ? ` (${r.upToDate.length} up to date, kept; --force rescores them)` : '';
  console.log(`\n${failed.length ? '✗' : '✓'} ${scored.length} of ${r.comparison.rows.length} jobs scored${kept}`);
  for (const row of scored) {
    console.log(
      `  ${row.job_id.padEnd(26)} ${skillText(row)}; phase MAE ${formatNumber(row.phase_mae, 4)} rad (constant ${formatNumber(row.phase_mae_baseline, 4)}), phase SSIM ${formatNumber(row.phase_ssim, 4)} (constant ${formatNumber(row.phase_ssim_baseline, 4)}), amplitude SSIM ${formatNumber(row.amp_ssim, 4)}`,
    );
  }
  if (r.missing.length) {
    console.log('  Not scored:');
    for (const m of r.missing) console.log(`    ${m.job_id.padEnd(26)} ${m.state}: ${m.reason}`);
  }
  console.log(`  → ${r.comparisonJson}\n  → ${r.comparisonCsv}`);
  return failed.length ? 1 : 0;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('reconstruct and score every trained job (recon.npz, eval.json) and write comparison.{json,csv}')
    .requiredOption('--artifact-root <dir>', 'the artifact root the study trained into')
    .option('--job <ids>', 'only these job ids (comma-separated or repeated)', collect)
    .option('--force', 'rescore every job and re-run inference, even when eval.json and recon.npz are up to date')
    .addOption(
      new Option('--accelerator <name>', 'execution provider for inference').choices(ACCELERATORS).default('cpu'),
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: EvaluateOptions) => {
      const code = await runEvaluate(opts);
      if (code !== 0) throw new CliExit(code);
    });
}
