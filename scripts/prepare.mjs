// Runs on `npm ci` / `npm install`: builds what the CLI and the server need (out/node and
// out/renderer) so `npx ptycho-study …` works straight after install. Skipped when the
// package is installed as someone else's dependency without its sources.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'src')) || !existsSync(join(root, 'node_modules', 'esbuild'))) {
  console.log('prepare: sources or dev dependencies absent, nothing to build');
  process.exit(0);
}
const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
