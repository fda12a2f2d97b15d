/**
 * `ptycho-study reconstruct`: the study's classical arm from a terminal — ePIE / rPIE with
 * probe refinement on every selected (dose, view)'s test split, scored like PtychoPINN,
 * writing recon.npz + eval.json per (dose, view) under `<view>/classical/` and
 * classical.{json,csv} in the artifact root. Ctrl-C stops after the current iteration, keeps
 * what was reached (state cancelled) and exits 130; a failed job exits 1.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CLASSICAL_ALGORITHMS, type ClassicalAlgorithm, pieOptions } from '../../classical/pie';
import { reconstructStudy } from '../../classical/study';
import { formatNumber } from '../../eval/render/format';
import { VIEW_NAMES, type ViewName } from '../../../shared/study';
import { CliExit, printJson } from '../output';
import { ACCELERATORS, type Accelerator } from '../../../shared/knobs';

export interface ReconstructOptions {
  phaseCRoot: string;
  phaseDRoot: string;
  artifactRoot: string;
  algorithm: ClassicalAlgorithm;
  iterations: number;
  probeUpdate: 'on' | 'off';
  probeUpdateStart?: number;
  alpha?: number;
  beta?: number;
  tv?: number;
  seed: number;
  accelerator: Accelerator;
  dose?: number;
  view?: ViewName;
  json?: boolean;
  resume?: boolean;
}

function integer(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

function step(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got '${v}'`);
  return n;
}

function nonNegative(v: string): number {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number ≥ 0, got '${v}'`);
  return n;
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got '${v}'`);
  return n;
}

export async function runReconstruct(o: ReconstructOptions): Promise<number> {
  if (o.tv !== undefined && o.algorithm !== 'lsqml')
    throw new CliExit(2, `error: --tv is a prior of --algorithm lsqml, not of ${o.algorithm}`);
  const pie = pieOptions({
    algorithm: o.algorithm,
    iterations: o.iterations,
    probeUpdate: o.probeUpdate === 'on',
    probeUpdateStart: o.probeUpdateStart,
    alpha: o.alpha,
    beta: o.beta,
    tv: o.tv,
    seed: o.seed,
  });
  const say = o.json ? () => {} : (m: string) => console.log(m);
  if (o.accelerator !== 'cpu' && o.accelerator !== 'auto')
    say(
      `notice: the classical reconstruction runs on the CPU (plain float64); --accelerator ${o.accelerator} is ignored`,
    );
  say(
    `${pie.algorithm}: ${pie.iterations} iterations, α ${pie.alpha}, β ${pie.beta}${pie.algorithm === 'lsqml' ? `, TV ${pie.tv}` : ''}, probe update ${pie.probeUpdate ? `from iteration ${pie.probeUpdateStart + 1}` : 'off'}`,
  );
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    say('\nstopping after this iteration (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', onSigint);
  try {
    let last = 0;
    const file = await reconstructStudy({
      roots: { phaseCRoot: o.phaseCRoot, phaseDRoot: o.phaseDRoot, artifactRoot: o.artifactRoot },
      filters: { dose: o.dose ?? null, view: o.view ?? null },
      pie,
      shouldStop: () => stop,
      resume: o.resume,
      onJobStart: (job, i, n) => say(`[${i + 1}/${n}] ${job.id}`),
      onIteration: (_job, it) => {
        const now = Date.now();
        if (it.iteration === pie.iterations || now - last > 2000) {
          last = now;
          say(`  iteration ${it.iteration}/${pie.iterations}  error ${it.error.toExponential(3)}`);
        }
      },
      onJobEnd: (r) =>
        say(
          r.state === 'done' || r.state === 'cancelled'
            ? `  ${r.state}: ${r.iterations} iterations in ${formatNumber(r.seconds, 3)} s (${formatNumber(r.iterations_per_s, 3)} it/s)  phase SSIM ${formatNumber(r.phase_ssim, 4)}  amplitude SSIM ${formatNumber(r.amp_ssim, 4)}  phase skill ${formatNumber(r.phase_mae_skill, 3)}`
            : `  ${r.state}: ${r.reason}`,
        ),
    });
    if (o.json) printJson(file);
    else say(`→ ${file.artifact_root}/classical.json\n→ ${file.artifact_root}/classical.csv`);
    if (stop) return 130;
    const mine = file.rows.filter(
      (r) => (o.dose == null || r.dose === o.dose) && (o.view == null || r.view === o.view),
    );
    if (mine.length && mine.every((r) => r.state === 'missing')) {
      console.error(
        `error: no test data for any selected (dose, view) under ${o.phaseCRoot} and ${o.phaseDRoot}; run simulate and overlap first`,
      );
      return 1;
    }
    return mine.some((r) => r.state === 'failed') ? 1 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export function registerReconstruct(program: Command): void {
  program
    .command('reconstruct')
    .description(
      'classical reconstruction (ePIE/rPIE/LSQML with probe refinement) of every (dose, view), scored like PtychoPINN',
    )
    .requiredOption('--phase-c-root <dir>', 'Phase C root (dose_<d>/patched_{train,test}.npz)')
    .requiredOption('--phase-d-root <dir>', 'Phase D root (dose_<d>/<view>/<view>_{train,test}.npz)')
    .requiredOption('--artifact-root <dir>', 'the study artifact root (writes dose_<d>/<view>/classical/)')
    .addOption(
      new Option('--algorithm <name>', 'reconstruction algorithm').choices([...CLASSICAL_ALGORITHMS]).default('epie'),
    )
    .option('--iterations <n>', 'sweeps over all positions', integer(1), 100)
    .addOption(new Option('--probe-update <on|off>', 'refine the probe').choices(['on', 'off']).default('on'))
    .option('--probe-update-start <n>', 'first iteration (0-based) that updates the probe (default 5)', integer(0))
    .option(
      '--alpha <a>',
      'object step (ePIE), α (rPIE) or fraction of the least-squares object step (LSQML); default 0.3 / 0.1 / 1',
      step,
    )
    .option(
      '--beta <b>',
      'probe step (ePIE), β (rPIE) or fraction of the least-squares probe step (LSQML); default 0.1 / 1 / 1',
      step,
    )
    .option(
      '--tv <weight>',
      'LSQML only: total-variation prior on the object amplitude, a MAP weight from the noise model (5e-5 recommended; default 0: plain maximum likelihood)',
      nonNegative,
    )
    .option('--seed <n>', 'seed of the position order', integer(0), 0)
    .addOption(
      new Option('--accelerator <name>', 'accepted for symmetry with train; the classical arm runs on the CPU')
        .choices(ACCELERATORS)
        .default('auto'),
    )
    .option('--dose <photons>', 'only this dose (exact match, e.g. 1000 or 1e3)', positive)
    .addOption(new Option('--view <view>', 'only this view').choices(VIEW_NAMES))
    .option(
      '--resume',
      'continue each (dose, view) from its recon.npz (same settings, more iterations, or a cancelled or interrupted run)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (opts: ReconstructOptions) => {
      const code = await runReconstruct(opts);
      if (code !== 0) throw new CliExit(code);
    });
}
