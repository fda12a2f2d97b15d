/**
 * `npm run bench [-- --json] [--only <group>] [--quality] [--quick] [--threads N] [--list]`.
 * Human-readable lines by default; one JSON object per line with --json.
 */
import { groups } from './groups';
import type { BenchRow } from './types';
import { readProcStat } from '../src/main/nn/spin-policy';
import { stolenShare } from './util';

const argv = process.argv.slice(2).map((a) => a.replaceAll('_', '-'));
const json = argv.includes('--json');
const quality = argv.includes('--quality');
const quick = argv.includes('--quick');
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? argv[onlyIdx + 1] : undefined;
const threadsIdx = argv.indexOf('--threads');
const threads = threadsIdx >= 0 ? Number(argv[threadsIdx + 1]) : 2;

if (argv.includes('--list')) {
  for (const g of groups) console.log(`${g.name.padEnd(16)} ${g.default === false ? '(opt-in) ' : ''}${g.description}`);
  process.exit(0);
}

const selected = only
  ? groups.filter((g) => g.name === only)
  : groups.filter((g) => (quality ? g.name === 'quality' : g.default !== false));
if (selected.length === 0) {
  console.error(
    `error: no bench group ${only ? `named '${only}'` : 'selected'}; available: ${groups.map((g) => g.name).join(', ') || '(none)'}`,
  );
  process.exit(2);
}

function print(row: BenchRow): void {
  if (json) {
    console.log(JSON.stringify(row));
    return;
  }
  const ref =
    row.reference_value !== undefined
      ? `  (reference ${fmt(row.reference_value)} ${row.unit}, ratio ${fmt(row.ratio_vs_reference ?? Number.NaN)})`
      : '';
  console.log(
    `${row.name.padEnd(44)} ${fmt(row.value).padStart(12)} ${row.unit}${ref}${row.notes ? `  — ${row.notes}` : ''}`,
  );
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

for (const g of selected) {
  if (!json) console.log(`\n# ${g.name}: ${g.description}`);
  const log = (m: string) => (json ? console.error(m) : console.log(`  ${m}`));
  const before = readProcStat();
  await g.run({ report: print, log, quick, quality, threads });
  const share = stolenShare(before, readProcStat());
  // On a virtual machine the host may give this machine's cores to others: the share of CPU
  // time stolen while a group ran says how far its absolute figures can be trusted.
  if (share !== null) log(`${g.name}: ${(100 * share).toFixed(1)}% of this machine's CPU time was stolen by its host`);
}
