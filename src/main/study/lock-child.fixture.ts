/** Child for the lock test: increments a JSON counter N times, each under the manifest lock. */
import { readFileSync, writeFileSync } from 'node:fs';
import { withFileLock } from './lock';

const [counterPath, times] = process.argv.slice(2);
for (let i = 0; i < Number(times); i++) {
  await withFileLock(`${counterPath}.lock`, async () => {
    const n = JSON.parse(readFileSync(counterPath, 'utf8')) as number;
    // Widen the race window: without the lock, the other process would read the same n.
    await new Promise((r) => setTimeout(r, 1));
    writeFileSync(counterPath, JSON.stringify(n + 1));
  });
}
