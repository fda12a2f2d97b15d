import { type Command, Option } from 'commander';
import { doseFolder } from '../../../shared/study';
import { DEFAULT_OVERLAP, type OverlapSettings, type PhaseDSummary } from '../../data/overlap';
import { WorkbenchService } from '../../service/workbench-service';
import { CliExit, printJson } from '../output';
import { parseDoses, parsePositive, parsePositiveInt, progressBar } from './simulate';

interface OverlapOptions {
  phaseCRoot: string;
  out?: string;
  outputRoot?: string;
  doses?: number[];
  views?: string[];
  probeDiameterPx?: number;
  neighborCount?: number;
  minPositions?: number;
  artifactRoot?: string;
  compress?: boolean;
  json?: boolean;
}

export function registerOverlap(program: Command): void {
  program
    .command('overlap')
    .description('Phase D: dense and sparse overlap views of each dose, with their overlap measured')
    .requiredOption('--phase-c-root <dir>', 'Phase C root (dose_<d>/patched_{train,test}.npz)')
    .option('--out <dir>', 'Phase D root to write (dose_<d>/<view>/ folders inside)')
    .option('--output-root <dir>', 'same as --out (the original study’s flag)')
    .option('--doses <doses...>', 'only these doses (default: every dose_<d> in the Phase C root)', parseDoses)
    .addOption(new Option('--views <names...>', 'views to build').choices(['dense', 'sparse']))
    .option(
      '--probe-diameter-px <px>',
      'D in the spacing S = (1 − f)·D (default: the Phase C files’ recorded probe diameter, else 0.6·N)',
      parsePositive,
    )
    .option(
      '--neighbor-count <k>',
      `K nearest neighbours of a gridsize-2 group (default ${DEFAULT_OVERLAP.neighborCount})`,
      parsePositiveInt,
    )
    .option('--min-positions <n>', 'fewest positions a split of a view may keep (default K + 1)', parsePositiveInt)
    .option('--artifact-root <dir>', 'also copy each metrics bundle to <dir>/metrics/dose_<d>/<view>.json')
    .option('--compress', 'deflate the NPZ entries')
    .option('--json', 'print a JSON summary for scripts')
    .action(async (opts: OverlapOptions) => {
      const out = opts.out ?? opts.outputRoot;
      if (!out) throw new CliExit(2, 'error: overlap needs --out PHASE_D_ROOT (or --output-root)');
      const settings: Partial<OverlapSettings> = {};
      if (opts.doses?.length) settings.doses = opts.doses;
      if (opts.views?.length) settings.views = DEFAULT_OVERLAP.views.filter((v) => opts.views?.includes(v.name));
      if (opts.probeDiameterPx !== undefined) settings.probeDiameterPx = opts.probeDiameterPx;
      if (opts.neighborCount !== undefined) settings.neighborCount = opts.neighborCount;
      if (opts.minPositions !== undefined) settings.minPositions = opts.minPositions;
      if (opts.artifactRoot) settings.artifactRoot = opts.artifactRoot;
      if (opts.compress) settings.compress = true;
      const bar = progressBar(!opts.json);
      let summary: PhaseDSummary;
      try {
        summary = await new WorkbenchService({ transport: 'cli', workspace: null }).data.overlap({
          phaseCRoot: opts.phaseCRoot,
          out,
          settings,
          onProgress: (p) => bar.update(p.stage, p.done, p.total),
        });
      } finally {
        bar.stop();
      }
      if (opts.json) return printJson(summary);
      console.log(`Phase D: probe diameter D = ${summary.probe_diameter_px} px`);
      for (const v of summary.views) {
        const m = (s: typeof v.train) =>
          `${s.n_accepted}/${s.n_positions} kept, overlap m1 ${s.metric_1_group_based_avg?.toFixed(3)} m2 ${s.metric_2_image_based_avg.toFixed(3)} m3 ${s.metric_3_group_to_group_avg.toFixed(3)}`;
        console.log(
          `  ${doseFolder(v.dose).padEnd(14)} ${v.view.padEnd(7)} S = ${v.spacing_threshold.toFixed(1)} px  train ${m(v.train)}  test ${m(v.test)}`,
        );
      }
      console.log(`Wrote ${summary.phase_d_root} in ${summary.seconds.toFixed(1)} s`);
    });
}
