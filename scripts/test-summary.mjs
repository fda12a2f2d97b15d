// Prints one plain line `N passed, N failed` (plus skipped, with reasons) from the JSON
// reports that `npm test` leaves in reports/. Exits non-zero when anything failed or a
// report is missing.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
const notes = [];
const missing = [];

if (existsSync('reports/vitest.json')) {
  const v = JSON.parse(readFileSync('reports/vitest.json', 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  skipped += v.numPendingTests + (v.numTodoTests ?? 0);
} else missing.push('reports/vitest.json');

if (existsSync('reports/playwright.json')) {
  const p = JSON.parse(readFileSync('reports/playwright.json', 'utf8'));
  const walk = (suite) => {
    for (const s of suite.suites ?? []) walk(s);
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const status = t.status; // expected | unexpected | flaky | skipped
        if (status === 'skipped') {
          skipped++;
          const why = (t.annotations ?? [])
            .map((a) => a.description)
            .filter(Boolean)
            .join('; ');
          notes.push(`skipped: ${spec.title}${why ? ` — ${why}` : ''}`);
        } else if (status === 'unexpected') failed++;
        else passed++;
      }
    }
  };
  for (const s of p.suites ?? []) walk(s);
} else missing.push('reports/playwright.json');

for (const n of notes) console.log(n);
for (const m of missing) console.log(`missing report: ${m}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || missing.length > 0 ? 1 : 0);
