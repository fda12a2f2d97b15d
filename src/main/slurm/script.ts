/**
 * The batch script of a Slurm run: one array task per job, each running
 * `ptycho-study train --job <id>` with the submit's roots and knobs on the shared
 * filesystem. Pure text, so `--dry-run` prints exactly what would be submitted.
 */
import { knobFlags } from '../../shared/knobs';
import type { TrainingKnobs } from '../../shared/study';

export interface SlurmResources {
  partition?: string;
  time?: string;
  gres?: string;
  cpusPerTask?: number;
  mem?: string;
  /** At most this many tasks at once (`--array=…%K`). */
  maxParallel?: number;
  account?: string;
  /** Extra `#SBATCH` lines, with or without the `#SBATCH` prefix. */
  extra?: string[];
}

export interface SlurmScriptInput {
  runId: string;
  jobIds: string[];
  /** Folder the task starts in (the submit's working directory). */
  workdir: string;
  /** Where each task's stdout/stderr go (`<artifact_root>/slurm`). */
  outputDir: string;
  /** The command that starts the CLI: node and the launcher, absolute. */
  cli: string[];
  roots: { phaseCRoot: string; phaseDRoot: string; artifactRoot: string };
  studyFile?: string;
  knobs: TrainingKnobs;
  force?: boolean;
  resources: SlurmResources;
}

/** POSIX single-quoting. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Knobs back to the `train` flags that produce them (generated from the knob table). */
export { knobFlags };

function sbatchLine(line: string): string {
  const t = line.trim();
  if (/[\r\n]/.test(t)) throw new Error('an --extra SBATCH line must be one line');
  return t.startsWith('#SBATCH') ? t : `#SBATCH ${t}`;
}

export function buildSlurmScript(i: SlurmScriptInput): string {
  const r = i.resources;
  const n = i.jobIds.length;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=ptycho-study`,
    `#SBATCH --array=0-${n - 1}${r.maxParallel ? `%${r.maxParallel}` : ''}`,
    `#SBATCH --output=${i.outputDir}/${i.runId}_%a.out`,
    '#SBATCH --ntasks=1',
  ];
  if (r.partition) lines.push(`#SBATCH --partition=${r.partition}`);
  if (r.account) lines.push(`#SBATCH --account=${r.account}`);
  if (r.time) {
    lines.push(`#SBATCH --time=${r.time}`);
    // Two minutes before the limit, SIGTERM to train alone: it stops with a checkpoint (then --resume).
    if (!(r.extra ?? []).some((e) => /--signal\b/.test(e))) lines.push('#SBATCH --signal=B:TERM@120');
  }
  if (r.cpusPerTask) lines.push(`#SBATCH --cpus-per-task=${r.cpusPerTask}`);
  if (r.mem) lines.push(`#SBATCH --mem=${r.mem}`);
  if (r.gres) lines.push(`#SBATCH --gres=${r.gres}`);
  for (const e of r.extra ?? []) lines.push(sbatchLine(e));
  const train = [
    ...i.cli.map(shellQuote),
    'train',
    '--phase-c-root',
    shellQuote(i.roots.phaseCRoot),
    '--phase-d-root',
    shellQuote(i.roots.phaseDRoot),
    '--artifact-root',
    shellQuote(i.roots.artifactRoot),
    ...(i.studyFile ? ['--study', shellQuote(i.studyFile)] : []),
    '--job',
    '"$JOB"',
    ...knobFlags(i.knobs).map(shellQuote),
    ...(i.force ? ['--force'] : []),
  ];
  lines.push(
    '',
    `# ptycho-study run ${i.runId}: ${n} job(s), one array task each, on the shared filesystem.`,
    'set -uo pipefail',
    `JOBS=(${i.jobIds.map(shellQuote).join(' ')})`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash array lookup, not a template
    'JOB="${JOBS[$SLURM_ARRAY_TASK_ID]}"',
    `cd ${shellQuote(i.workdir)}`,
    `exec ${train.join(' ')}`,
    '',
  );
  return lines.join('\n');
}
