/**
 * `ptycho-study slurm submit|status|cancel`: hand the selected, not-up-to-date jobs to a
 * Slurm cluster as one job array (each task runs `ptycho-study train --job <id>` on the
 * shared filesystem), follow them, cancel them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { describeFreshness } from '../../../shared/fingerprint';
import { defaultStudyDesign, type JobFilters, VIEW_NAMES } from '../../../shared/study';
import { WorkbenchService } from '../../service/workbench-service';
import { sbatchTestOnly } from '../../slurm/commands';
import { statusForSlurmState } from '../../slurm/states';
import type { SlurmResources } from '../../slurm/script';
import { cancelSlurmJobs, refreshSlurmStatus, type SlurmJobRow } from '../../slurm/status';
import { freshnessOf, submitToSlurm } from '../../slurm/submit';
import { loadStudyDesign } from '../../study/study-file';
import { CliExit, printJson } from '../output';
import { addKnobOptions, knobsFromOptions } from '../knob-options';
import { collect, type TrainOptions } from './train';

interface SubmitOptions extends TrainOptions, SlurmResources {
  testOnly?: boolean;
}

const repeat = (v: string, previous: string[] = []) => [...previous, v];

function int(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

function num(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${v}'`);
  return n;
}

export async function runSlurmSubmit(o: SubmitOptions): Promise<number> {
  const design = o.study ? loadStudyDesign(resolve(o.study)) : defaultStudyDesign();
  const roots = {
    phaseCRoot: resolve(o.phaseCRoot),
    phaseDRoot: resolve(o.phaseDRoot),
    artifactRoot: resolve(o.artifactRoot),
  };
  const knobs = knobsFromOptions(o);
  const filters: JobFilters = { dose: o.dose ?? null, view: o.view ?? null, gridsize: o.gridsize ?? null };
  // Jobs a process that is gone left running are marked interrupted, so they count as not up to date.
  const selection = await new WorkbenchService({ transport: 'cli', workspace: null, design }).study.selectJobs({
    roots,
    filters,
    jobIds: o.job?.length ? o.job : undefined,
    unknownJobIds: 'ignore',
    missingData: o.allowMissingPhaseD ? 'skip-phase-d' : 'refuse',
    knobs,
    freshness: false,
  });
  if (selection.plan.selected.length === 0)
    throw new CliExit(2, 'error: no jobs match the filters; nothing was submitted');
  const jobs = selection.plan.jobs;
  const resources: SlurmResources = {
    partition: o.partition,
    time: o.time,
    gres: o.gres,
    cpusPerTask: o.cpusPerTask,
    mem: o.mem,
    maxParallel: o.maxParallel,
    account: o.account,
    extra: o.extra,
  };
  const dryRun = o.dryRun || o.testOnly;
  const out = await submitToSlurm({
    roots,
    design,
    studyFile: o.study,
    jobs,
    filters,
    knobs,
    resources,
    force: o.force,
    deep: o.deep,
    dryRun,
  });
  const say = dryRun ? (s: string) => console.error(s) : (s: string) => console.log(s);
  for (const job of jobs) {
    const f = freshnessOf(out.selection, job.id, o.force);
    say(`  ${job.id}: ${job.skipReason ? `skipped: ${job.skipReason}` : f ? describeFreshness(f) : ''}`);
  }
  if (out.jobIds.length === 0) {
    say(`✓ Nothing to submit: ${out.upToDate.length} job(s) up to date (--force resubmits them)`);
    return 0;
  }
  if (o.dryRun) {
    // The script alone on stdout, so `slurm submit --dry-run > x.sbatch` is a valid batch script.
    process.stdout.write(out.script);
    say(`(dry run: ${out.jobIds.length} array task(s); nothing submitted)`);
    return 0;
  }
  if (o.testOnly) {
    const path = join(mkdtempSync(join(tmpdir(), 'ptycho-sbatch-')), `${out.runId}.sbatch`);
    writeFileSync(path, out.script);
    console.log(sbatchTestOnly(path));
    return 0;
  }
  console.log(`✓ Submitted Slurm job ${out.slurmJobId}: ${out.jobIds.length} array task(s)`);
  out.jobIds.forEach((id, i) => {
    console.log(`  ${out.slurmJobId}_${i}  ${id}`);
  });
  console.log(`  script: ${out.scriptPath}`);
  console.log(`  follow: ptycho-study slurm status --artifact-root ${roots.artifactRoot} --wait`);
  return 0;
}

function printRows(rows: SlurmJobRow[]): void {
  if (rows.length === 0) {
    console.log('No jobs of this artifact root were handed to Slurm.');
    return;
  }
  console.log(
    `${'job'.padEnd(26)} ${'status'.padEnd(10)} ${'slurm task'.padEnd(12)} ${'slurm state'.padEnd(14)} node / reason`,
  );
  for (const r of rows) {
    const tail = [r.node, r.reason].filter(Boolean).join('  ');
    console.log(
      `${r.id.padEnd(26)} ${r.status.padEnd(10)} ${(r.slurmTask ?? '-').padEnd(12)} ${(r.slurmState ?? '-').padEnd(14)} ${tail}`,
    );
  }
}

interface StatusOptions {
  artifactRoot: string;
  wait?: boolean;
  timeout?: number;
  interval?: number;
  json?: boolean;
}

export async function runSlurmStatus(o: StatusOptions): Promise<number> {
  const root = resolve(o.artifactRoot);
  const deadline = Date.now() + (o.timeout ?? 3600) * 1000;
  for (;;) {
    const { rows } = await refreshSlurmStatus(root);
    // A task counts as live until Slurm itself says it ended: the training records `done`
    // a moment before its Slurm task leaves RUNNING/COMPLETING.
    const slurmLive = (state: string | null | undefined): boolean => {
      const st = state ? statusForSlurmState(state)?.status : undefined;
      return st === 'queued' || st === 'running';
    };
    const live = rows.filter((r) => r.status === 'queued' || r.status === 'running' || slurmLive(r.slurmState));
    if (!o.wait || live.length === 0) {
      if (o.json) printJson(rows);
      else printRows(rows);
      if (!o.wait) return 0;
      return rows.every((r) => r.status === 'done') ? 0 : 1;
    }
    if (Date.now() > deadline) {
      printRows(rows);
      console.error(`error: ${live.length} job(s) still queued or running after ${o.timeout ?? 3600} s`);
      return 124;
    }
    await new Promise((r) => setTimeout(r, (o.interval ?? 2) * 1000));
  }
}

export async function runSlurmCancel(o: { artifactRoot: string; job?: string[] }): Promise<number> {
  const r = await cancelSlurmJobs(resolve(o.artifactRoot), o.job);
  if (r.targets.length === 0) {
    console.log('Nothing to cancel: no job of this artifact root is queued or running in Slurm.');
    return 0;
  }
  console.log(`✓ scancel ${r.targets.join(' ')}`);
  for (const id of r.cancelled) console.log(`  ${id}`);
  return 0;
}

export function registerSlurm(program: Command): void {
  const slurm = program.command('slurm').description('run the study on a Slurm cluster (job arrays)');
  const submit = slurm
    .command('submit')
    .description('submit the selected jobs that are not up to date as one Slurm job array')
    .requiredOption('--phase-c-root <dir>', 'Phase C root (on the shared filesystem)')
    .requiredOption('--phase-d-root <dir>', 'Phase D root (on the shared filesystem)')
    .requiredOption('--artifact-root <dir>', 'where jobs train and the manifest lives (shared filesystem)')
    .option('--dose <photons>', 'only this dose', num)
    .addOption(new Option('--view <view>', 'only this view').choices(VIEW_NAMES))
    .addOption(
      new Option('--gridsize <g>', 'only this gridsize').choices(['1', '2']).argParser((v) => Number(v) as 1 | 2),
    )
    .option('--job <id>', 'only these job ids (repeatable or comma-separated)', collect)
    .option('--allow-missing-phase-d', 'leave out dense/sparse jobs whose Phase D data is missing')
    .option('--study <file.json>', 'study file overriding the design');
  addKnobOptions(submit)
    .option('--force', 'submit the selected jobs even when they are up to date')
    .option('--deep', 'compare input files by content hash even when size and mtime match')
    .option('--partition <p>', 'Slurm partition (#SBATCH --partition)')
    .option('--time <t>', 'time limit per task, e.g. 02:00:00 (#SBATCH --time)')
    .option('--gres <g>', 'generic resources per task, e.g. gpu:1 (#SBATCH --gres)')
    .option('--cpus-per-task <n>', 'CPUs per task (#SBATCH --cpus-per-task)', int(1))
    .option('--mem <m>', 'memory per task, e.g. 16G (#SBATCH --mem)')
    .option('--max-parallel <k>', 'at most K tasks at once (--array=…%K)', int(1))
    .option('--account <a>', 'Slurm account (#SBATCH --account)')
    .option('--extra <line>', "an extra '#SBATCH …' line (repeatable)", repeat)
    .option('--dry-run', 'print the batch script on stdout; submit nothing')
    .option('--test-only', 'ask Slurm to validate the script (sbatch --test-only); submit nothing')
    .action(async (opts: SubmitOptions) => {
      const code = await runSlurmSubmit(opts);
      if (code !== 0) throw new CliExit(code);
    });
  slurm
    .command('status')
    .description("show the Slurm jobs of an artifact root as manifest states, recording Slurm's word in the manifest")
    .requiredOption('--artifact-root <dir>', 'the artifact root')
    .option('--wait', 'poll until no job is queued or running; exit 0 when all are done, else 1')
    .option('--timeout <s>', 'give up waiting after this many seconds (exit 124)', int(1))
    .option('--interval <s>', 'seconds between polls', num)
    .option('--json', 'print the rows as JSON')
    .action(async (opts: StatusOptions) => {
      const code = await runSlurmStatus(opts);
      if (code !== 0) throw new CliExit(code);
    });
  slurm
    .command('cancel')
    .description('cancel the Slurm tasks of these jobs (all queued or running ones by default) through scancel')
    .requiredOption('--artifact-root <dir>', 'the artifact root')
    .option('--job <id>', 'only these job ids (repeatable or comma-separated)', collect)
    .action(async (opts: { artifactRoot: string; job?: string[] }) => {
      const code = await runSlurmCancel(opts);
      if (code !== 0) throw new CliExit(code);
    });
}
