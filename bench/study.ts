/**
 * Bench group `study`: wall time of one epoch of the demo study's three baseline gridsize-1
 * jobs as the workbench runs them — `ptycho-study train` from this checkout (bundled to
 * out/bench/node by scripts/bench.mjs), one training worker for the run's jobs, one job after
 * another, each with its data loading, graph building, validation, checkpoint and model export —
 * against the PyTorch reference (bench/study_torch.py) training the same three files one
 * after another for the same number of steps in the same model configuration, timed from its
 * process start (imports included); PyTorch in the reference configuration is reported too.
 * After one untimed warm-up of each side (a returning user's state: onnxruntime's optimised
 * graphs on disk, libraries in the page cache), interleaved rounds, median. Lower is better:
 * ratio = ours / theirs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/main/paths';
import { findPython } from '../src/main/util/python';
import type { BenchContext, BenchGroup } from './types';
import { median, nowSeconds } from './util';

const DOSES = ['1000', '10000', '100000'];

/**
 * PyTorch builds: `study` is the model `train` trains for these jobs (the row's reference);
 * `reference` is the bench's reference configuration, reported beside it.
 */
const TORCH_CONFIGS = ['study', 'reference'] as const;
type TorchConfig = (typeof TORCH_CONFIGS)[number];

function cliEntry(): { cli: string; trainer: string } {
  const dir = join(packageRoot(), 'out', 'bench', 'node');
  const cli = join(dir, 'cli.js');
  const trainer = join(dir, 'trainer.js');
  if (!existsSync(cli) || !existsSync(trainer)) {
    throw new Error(
      `${dir} has no cli.js / trainer.js: run the bench through \`npm run bench\` (scripts/bench.mjs builds them)`,
    );
  }
  return { cli, trainer };
}

function runCli(args: string[], trainer: string): string {
  const { cli } = cliEntry();
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    timeout: 1_200_000,
    env: { ...process.env, PTYCHO_TRAINER_ENTRY: trainer },
  });
  if (r.status !== 0) throw new Error(`ptycho-study ${args[0]} failed: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
}

async function runStudyBench(ctx: BenchContext): Promise<void> {
  const python = findPython(['torch', 'numpy']);
  if (!python)
    ctx.log('python3 with torch not found: the PyTorch reference is not measured (apt-get install python3-torch)');
  const { trainer } = cliEntry();
  // `train` uses the engine's default of 2 intra-op threads, as the workbench does.
  const threads = 2;
  if (ctx.threads !== threads)
    ctx.log(
      `study: both sides run with ${threads} threads, as the workbench trains (--threads ${ctx.threads} ignored)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'study-bench-'));
  try {
    const pc = join(dir, 'phase_c');
    runCli(['simulate', '--preset', 'demo', '--out', pc], trainer);
    const files = DOSES.map((d) => join(pc, `dose_${d}`, 'patched_train.npz'));
    const trainArgs = (art: string, extra: string[] = []) => [
      'train',
      '--phase-c-root',
      pc,
      '--phase-d-root',
      join(dir, 'phase_d'),
      '--artifact-root',
      art,
      '--view',
      'baseline',
      '--gridsize',
      '1',
      '--max-epochs',
      '1',
      '--accelerator',
      'cpu',
      ...extra,
    ];
    const torchArgs = (config: TorchConfig, inputs: string[]) => [
      join(packageRoot(), 'bench', 'study_torch.py'),
      '--threads',
      String(threads),
      '--epochs',
      '1',
      '--config',
      config,
      ...inputs,
    ];
    // Untimed, once each: the row measures a returning user's run (onnxruntime's optimised
    // graphs of these jobs already on disk, as any earlier `train` of the study leaves them;
    // the first run on a machine pays ≈ 0.7 s more to optimise them), and both sides start
    // with their libraries in the page cache.
    runCli(trainArgs(join(dir, 'art_warmup'), ['--dose', DOSES[0]]), trainer);
    if (python) spawnSync(python, torchArgs('study', files.slice(0, 1)), { encoding: 'utf8', timeout: 1_200_000 });
    const rounds = ctx.quick ? 1 : 3;
    const ours: number[] = [];
    const theirs: Record<TorchConfig, number[]> = { study: [], reference: [] };
    let steps = '';
    for (let r = 0; r < rounds; r++) {
      const art = join(dir, `art_${r}`);
      const t0 = nowSeconds();
      const out = runCli(trainArgs(art), trainer);
      ours.push(nowSeconds() - t0);
      steps = [...out.matchAll(/(\d+) steps per epoch/g)].map((m) => m[1]).join('+');
      if (python) {
        for (const config of TORCH_CONFIGS) {
          const t1 = nowSeconds();
          const tr = spawnSync(python, torchArgs(config, files), { encoding: 'utf8', timeout: 1_200_000 });
          if (tr.status !== 0) throw new Error(`study_torch.py --config ${config} failed: ${tr.stderr.slice(-2000)}`);
          theirs[config].push(nowSeconds() - t1);
          const jobs =
            (JSON.parse(tr.stdout.trim().split('\n').at(-1) ?? '{}') as { jobs?: { steps: number }[] }).jobs ?? [];
          const torchSteps = jobs.map((j) => j.steps).join('+');
          if (torchSteps !== steps) throw new Error(`steps per job differ: ours ${steps}, PyTorch ${torchSteps}`);
        }
      }
      ctx.log(
        `round ${r + 1}: ours ${ours.at(-1)?.toFixed(1)} s${python ? `, PyTorch ${theirs.study.at(-1)?.toFixed(1)} s (reference configuration ${theirs.reference.at(-1)?.toFixed(1)} s)` : ''} (steps ${steps})`,
      );
    }
    const o = median(ours);
    const t = theirs.study.length ? median(theirs.study) : undefined;
    const tRef = theirs.reference.length ? median(theirs.reference) : undefined;
    const what = `one epoch (${steps} steps) of the demo study's three baseline gs1 jobs as \`train\` runs them (one worker for the run's jobs, CPU, ${threads} threads; ORT's optimised graphs on disk from an untimed warm-up run of one job, as a returning user has them)`;
    ctx.report({
      name: 'study_baseline_epoch_s',
      value: o,
      unit: 's',
      reference_value: t,
      ratio_vs_reference: t ? o / t : undefined,
      notes: `${what} vs PyTorch training the same files in the same model configuration (border branch, no probe mask, trained intensity scale) one after another from process start; lower is better, ratio = ours / theirs; median of ${rounds}`,
    });
    ctx.report({
      name: 'study_baseline_epoch_s_vs_reference_config',
      value: o,
      unit: 's',
      reference_value: tRef,
      ratio_vs_reference: tRef ? o / tRef : undefined,
      notes: `${what} vs PyTorch training the same files in the bench's reference configuration (no border branch: less work per step than the jobs it is compared with); lower is better; median of ${rounds}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const studyBench: BenchGroup = {
  name: 'study',
  description: "one epoch of the demo study's three baseline gs1 jobs, as the workbench runs them, vs PyTorch",
  // ≈ 3 min on a quiet 2-core machine (a warm-up, then three rounds of both sides): opt-in, `--only study`.
  default: false,
  run: runStudyBench,
};
