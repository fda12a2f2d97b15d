import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { isHiddenBelow } from '../../data/staging';
import { type FileReport, validateStudyFile } from '../../data/validate';
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
      const reports: FileReport[] = [];
      for (const item of expandFolders(files))
        reports.push(
          'emptyFolder' in item
            ? emptyFolderReport(item.emptyFolder)
            : await validateStudyFile(item.file, {
                gridsize: opts.gridsize,
                neighborCount: opts.neighborCount,
                physicsCheck: opts.physics,
              }),
        );
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

/**
 * Folders expand to the .npz files below them, sorted, skipping hidden names (staging folders
 * and temp files of a run in progress or killed); anything else is checked as given. A folder
 * with no .npz file is a failure of its own: "nothing to check" must never read as "all pass".
 */
type Item = { file: string } | { emptyFolder: string };

function expandFolders(paths: string[]): Item[] {
  return paths.flatMap((p): Item[] => {
    let folder = false;
    try {
      folder = statSync(p).isDirectory();
    } catch {
      return [{ file: p }]; // reported as unreadable
    }
    if (!folder) return [{ file: p }];
    const found = readdirSync(p, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.npz') && !isHiddenBelow(p, join(p, f)))
      .sort()
      .map((f) => ({ file: join(p, f) }));
    return found.length ? found : [{ emptyFolder: p }];
  });
}

function emptyFolderReport(folder: string): FileReport {
  const message = `${folder}: no .npz files in this folder (nothing to validate)`;
  return {
    file: folder,
    ok: false,
    keys: [],
    errors: [{ rule: 'empty', severity: 'error', file: folder, message, expected: 'at least one .npz file' }],
    warnings: [],
  };
}
