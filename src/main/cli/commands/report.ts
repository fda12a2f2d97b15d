/**
 * `ptycho-study report --artifact-root A`: the offline comparison report in A/report/ —
 * heat maps (dose × view) per metric, amplitude / phase / error pictures per scored job and
 * report.html with the dose trend and loss curves — from whatever A holds.
 */
import type { Command } from 'commander';
import { WorkbenchService } from '../../service/workbench-service';
import { readComparisonFile, seedRoots, writeSeedsReport } from '../../eval/seeds';
import { CliExit, printJson } from '../output';

interface ReportOptions {
  artifactRoot: string;
  json?: boolean;
  force?: boolean;
}

export async function runReport(o: ReportOptions): Promise<void> {
  const service = new WorkbenchService({ transport: 'cli', workspace: null });
  const seeds = seedRoots(o.artifactRoot);
  if (seeds.length) {
    // one report per seed, then the parent's: the mean over seeds with error bars
    for (const s of seeds) await service.evaluation.buildReport({ artifactRoot: s.root });
    const comparison = readComparisonFile(o.artifactRoot);
    if (!comparison)
      throw new CliExit(
        1,
        `error: no comparison.json in ${o.artifactRoot}: run evaluate --artifact-root ${o.artifactRoot} first`,
      );
    const r = await writeSeedsReport(o.artifactRoot, comparison, seeds, new Date());
    if (o.json) return printJson({ ...r, comparison });
    console.log(
      `✓ Report written: ${r.htmlPath} (mean over seeds ${seeds.map((s) => s.seed).join(', ')}; one report per seed beside it)`,
    );
    return;
  }
  const r = await service.evaluation.buildReport({ artifactRoot: o.artifactRoot, force: o.force });
  const comparison = await service.getComparison({ artifactRoot: o.artifactRoot });
  if (o.json) return printJson({ ...r, comparison: comparison.comparison });
  const rows = comparison.comparison?.rows ?? [];
  const scored = rows.filter((row) => row.state === 'evaluated').length;
  console.log(
    r.upToDate
      ? `✓ Report up to date (no input changed since it was drawn; --force redraws it): ${r.htmlPath}`
      : `✓ Report written: ${r.htmlPath}`,
  );
  console.log(`  → ${r.files.length} files in ${r.reportDir}`);
  console.log(
    `  → ${scored} of ${rows.length} jobs scored${scored < rows.length ? ' (the report lists why the others are not)' : ''}`,
  );
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write the offline comparison report (heat maps, pictures, loss curves) into <artifact-root>/report/')
    .requiredOption('--artifact-root <dir>', 'the artifact root the study trained into')
    .option('--json', 'print the written files as JSON')
    .option('--force', 'draw the report even when no input changed since it was drawn')
    .action(async (opts: ReportOptions) => {
      await runReport(opts);
    });
}
