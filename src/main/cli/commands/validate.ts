import type { Command } from 'commander';
import { WorkbenchService } from '../../service/workbench-service';
import { CliExit, printJson } from '../output';
import { parsePositiveInt } from './simulate';

interface ValidateOptions {
  json?: boolean;
  gridsize?: number;
  neighborCount?: number;
  physics: boolean;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check NPZ files against the DATA-001 contract (exit 1 on any violation)')
    .argument('<files...>', 'NPZ files to check (a folder stands for every .npz below it)')
    .option('--gridsize <g>', 'gridsize the data will train at (checks neighbor_count ≥ gridsize²)', parsePositiveInt)
    .option('--neighbor-count <k>', 'K nearest neighbours used for grouping', parsePositiveInt)
    .option('--no-physics', 'skip the far-field amplitude-vs-intensity comparison')
    .option('--json', 'print the reports as JSON')
    .action(async (files: string[], opts: ValidateOptions) => {
      const reports = await new WorkbenchService({ transport: 'cli', workspace: null }).data.validate({
        paths: files,
        gridsize: opts.gridsize,
        neighborCount: opts.neighborCount,
        physicsCheck: opts.physics,
      });
      const failed = reports.filter((r) => !r.ok).length;
      if (opts.json) printJson({ ok: failed === 0, files: reports });
      else {
        for (const r of reports) {
          const shape = r.M !== undefined ? ` (M = ${r.M}, N = ${r.N})` : '';
          console.log(`${r.ok ? '✔' : '✘'} ${r.file}${shape}`);
          for (const e of r.errors) console.log(`    error   ${e.rule}: ${e.message}`);
          for (const w of r.warnings) console.log(`    warning ${w.rule}: ${w.message}`);
        }
        console.log(`${reports.length - failed} of ${reports.length} files pass DATA-001`);
      }
      if (failed) throw new CliExit(1);
    });
}
