// Bundles bench/ (TypeScript) with esbuild and runs it; arguments pass through.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeBundleOptions } from './node-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  absWorkingDir: root,
  entryPoints: { bench: 'bench/main.ts' },
  outdir: 'out/bench',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
// The CLI and the training worker as built from this checkout (built as out/node is), for the
// study group (which runs `train` as the workbench does) without touching out/node.
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/main/cli/main.ts', trainer: 'src/main/trainer/worker-main.ts' },
  outdir: 'out/bench/node',
  ...nodeBundleOptions,
});
const r = spawnSync(process.execPath, [join(root, 'out', 'bench', 'bench.js'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
