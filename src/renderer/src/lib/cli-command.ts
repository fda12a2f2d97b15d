/**
 * The `ptycho-study train` command equivalent to a Run in the UI, so a selection can be
 * repeated from a terminal or a batch script. A selection that one set of CLI filters
 * describes becomes one command; any other selection becomes one command per job. A run on
 * Slurm is one `ptycho-study slurm submit` (a selection no filter describes by `--job`).
 * The knob flags come from the knob table.
 */
import { givenKnobs, type KnobKey, type KnobValues, knobArgs } from '../../../shared/knobs';

export interface CommandJob {
  dose: number;
  view: string;
  gridsize: number;
}

/** The Run panel's knob values (blank = not given). */
export type CommandKnobs = Partial<Record<KnobKey, string | number | boolean | null>>;

/** Quotes a word for a POSIX shell when it needs it. */
export function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function single<T>(values: T[]): T | null {
  return values.length > 0 && values.every((v) => v === values[0]) ? values[0] : null;
}

/** `slurm submit`'s own flags as the Run panel holds them (blank = not given). */
export interface CommandSlurm {
  partition: string;
  time: string;
  gres: string;
  cpusPerTask: number | null;
  mem: string;
  maxParallel: number | null;
  account: string;
  extra: string;
}

function slurmFlags(s: CommandSlurm): string[] {
  const out: string[] = [];
  const text = (flag: string, v: string) => {
    if (v.trim()) out.push(`${flag} ${quote(v.trim())}`);
  };
  text('--partition', s.partition);
  text('--time', s.time);
  text('--gres', s.gres);
  if (s.cpusPerTask !== null) out.push(`--cpus-per-task ${s.cpusPerTask}`);
  text('--mem', s.mem);
  if (s.maxParallel !== null) out.push(`--max-parallel ${s.maxParallel}`);
  text('--account', s.account);
  text('--extra', s.extra);
  return out;
}

function jobIdOf(j: CommandJob): string {
  return `dose_${Math.trunc(j.dose)}-${j.view}-gs${j.gridsize}`;
}

export function trainCommand(
  roots: { phaseC: string; phaseD: string; artifact: string },
  selected: CommandJob[],
  all: CommandJob[],
  knobs: CommandKnobs,
  dryRun: boolean,
  options: { force?: boolean; slurm?: CommandSlurm | null } = {},
): string {
  if (selected.length === 0) return '';
  const base = [
    options.slurm ? 'ptycho-study slurm submit' : 'ptycho-study train',
    `--phase-c-root ${quote(roots.phaseC)}`,
    `--phase-d-root ${quote(roots.phaseD)}`,
    `--artifact-root ${quote(roots.artifact)}`,
  ];
  const tail = knobArgs(givenKnobs(knobs as KnobValues), { omitCliDefaults: true }).map((arg) =>
    arg.map(quote).join(' '),
  );
  if (options.force) tail.push('--force');
  if (options.slurm) tail.push(...slurmFlags(options.slurm));
  if (dryRun) tail.push('--dry-run');

  const dose = single(selected.map((j) => j.dose));
  const view = single(selected.map((j) => j.view));
  const gridsize = single(selected.map((j) => j.gridsize));
  const matched = all.filter(
    (j) =>
      (dose === null || j.dose === dose) &&
      (view === null || j.view === view) &&
      (gridsize === null || j.gridsize === gridsize),
  );
  const filterFlags = (d: number | null, v: string | null, g: number | null) =>
    [
      d !== null ? `--dose ${d}` : '',
      v !== null ? `--view ${v}` : '',
      g !== null && v === null ? `--gridsize ${g}` : '',
    ].filter(Boolean); // a view fixes its gridsize
  if (matched.length === selected.length) {
    return [...base, ...filterFlags(dose, view, gridsize), ...tail].join(' ');
  }
  if (options.slurm) return [...base, `--job ${selected.map(jobIdOf).join(',')}`, ...tail].join(' ');
  return selected.map((j) => [...base, ...filterFlags(j.dose, j.view, null), ...tail].join(' ')).join(' && \\\n  ');
}
