import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { doseFolder } from '../../../shared/study';
import { presetRecord, STUDY_PRESETS } from '../../../shared/presets';
import { DEFAULT_SIMULATION, type PhaseCSummary, type SimulationSettings } from '../../data/simulate';
import { WorkbenchService } from '../../service/workbench-service';
import { CliExit, printJson } from '../output';

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer ≥ 0, got '${value}'`);
  return n;
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

/** Doses as `1e3 1e4`, `1000,10000` or both; accumulates over repeated flags. */
export function parseDoses(value: string, previous: number[] | undefined): number[] {
  const out = [...(previous ?? [])];
  for (const part of value.split(/[,\s]+/).filter(Boolean)) out.push(parsePositive(part));
  return out;
}

/** One progress bar on stderr while a TTY is attached; nothing otherwise (stdout stays clean). */
export function progressBar(enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return { update: (_s: string, _d: number, _t: number) => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{stage} [{bar}] {value}/{total} {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let current = '';
  return {
    update(stage: string, done: number, total: number) {
      if (stage !== current) {
        if (current) bar.stop();
        current = stage;
        bar.start(total, done, { stage: stage.padEnd(18) });
      } else bar.update(done, { stage: stage.padEnd(18) });
    },
    stop() {
      if (current) bar.stop();
      current = '';
    },
  };
}

interface SimulateOptions {
  out?: string;
  outputRoot?: string;
  baseNpz?: string;
  doses?: number[];
  nPositions?: number;
  nImages?: number;
  objectSize?: number;
  seed?: number;
  probeDiameterPx?: number;
  preset: 'default' | 'demo' | 'trend' | 'paper';
  compress?: boolean;
  json?: boolean;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'Phase C: simulate noisy far-field diffraction at each dose and write dose_<d>/patched_{train,test}.npz',
    )
    .option('--out <dir>', 'Phase C root to write (dose_<d>/ folders inside)')
    .option('--output-root <dir>', 'same as --out (the original study’s flag)')
    .option('--base-npz <file>', 'use objectGuess and probeGuess of this NPZ instead of the synthetic specimen')
    .option(
      '--doses <doses...>',
      `photons per exposure, e.g. --doses 1e3 1e4 or 1e3,1e4 (default ${DEFAULT_SIMULATION.doses.join(' ')})`,
      parseDoses,
    )
    .option(
      '--n-positions <n>',
      `scan positions over train + test (default ${DEFAULT_SIMULATION.nPositions})`,
      parsePositiveInt,
    )
    .addOption(new Option('--n-images <n>', 'alias of --n-positions').argParser(parsePositiveInt))
    .option(
      '--object-size <px>',
      `side of the synthetic object (default ${DEFAULT_SIMULATION.objectSize})`,
      parsePositiveInt,
    )
    .option(
      '--seed <n>',
      `random seed (default ${DEFAULT_SIMULATION.seed}, the study's simulation seed)`,
      parseNonNegativeInt,
    )
    .option(
      '--probe-diameter-px <px>',
      `diameter of the synthetic probe, recorded for the overlap views (default 0.6·N = ${DEFAULT_SIMULATION.probeDiameterPx})`,
      parsePositive,
    )
    .addOption(
      new Option(
        '--preset <name>',
        `study preset with a stated budget, recorded for train: ${Object.values(STUDY_PRESETS)
          .map((p) => `${p.name} = ${p.purpose}`)
          .join('; ')}`,
      )
        .choices(['default', 'demo', 'trend', 'paper'])
        .default('default'),
    )
    .option('--compress', 'deflate the NPZ entries (np.savez_compressed); default stored like np.savez')
    .option('--json', 'print a JSON summary for scripts')
    .action(async (opts: SimulateOptions) => {
      const out = opts.out ?? opts.outputRoot;
      if (!out) throw new CliExit(2, 'error: simulate needs --out PHASE_C_ROOT (or --output-root)');
      const preset = opts.preset === 'default' ? null : STUDY_PRESETS[opts.preset];
      const settings: Partial<SimulationSettings> = { ...DEFAULT_SIMULATION, ...preset?.simulation };
      if (opts.baseNpz) settings.baseNpz = resolve(opts.baseNpz);
      if (opts.doses?.length) settings.doses = opts.doses;
      const n = opts.nPositions ?? opts.nImages;
      if (n !== undefined) settings.nPositions = n;
      else if (opts.baseNpz) delete settings.nPositions; // the base file's position count
      if (opts.objectSize !== undefined) settings.objectSize = opts.objectSize;
      if (opts.seed !== undefined) settings.seed = opts.seed;
      if (opts.probeDiameterPx !== undefined) settings.probeDiameterPx = opts.probeDiameterPx;
      if (opts.compress) settings.compress = true;
      const bar = progressBar(!opts.json);
      let summary: PhaseCSummary;
      try {
        // train reads a preset's budget back from beside the data (flags given to train still win)
        summary = await new WorkbenchService({ transport: 'cli', workspace: null }).data.simulate({
          out,
          settings,
          preset,
          onProgress: (p) => bar.update(p.stage, p.done, p.total),
        });
      } finally {
        bar.stop();
      }
      if (opts.json) return printJson(preset ? { ...summary, preset: presetRecord(preset) } : summary);
      const s = summary.settings;
      console.log(
        `Phase C: ${s.nPositions} positions on a ${summary.object.shape.join(' × ')} ${summary.object.source === 'synthetic' ? 'synthetic object' : `object from ${summary.object.source}`}, N = ${s.N}, seed ${s.seed}; split at y = ${summary.split.value} (train ${summary.split.n_train}, test ${summary.split.n_test})`,
      );
      for (const d of summary.doses)
        console.log(
          `  ${doseFolder(d.dose).padEnd(14)} intensity_scale ${d.intensity_scale.toPrecision(5)}  mean counts train ${d.train.mean_counts.toFixed(0)} / test ${d.test.mean_counts.toFixed(0)}  (validated)`,
        );
      console.log(`Wrote ${summary.phase_c_root} in ${summary.seconds.toFixed(1)} s`);
      if (preset)
        console.log(
          `Preset ${preset.name}: ${preset.purpose}.\n  Budget: ${preset.budget}; train uses ${preset.maxEpochs} epochs per job (see train --dry-run for the estimate on this machine).`,
        );
    });
}
