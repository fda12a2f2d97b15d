// Bundles the Node-side entry points (CLI, server, training worker) with esbuild into
// out/node/. Dependencies stay external and load from node_modules.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** name → entry; every Node-side process entry belongs here. */
export const nodeEntries = {
  cli: 'src/main/cli/main.ts',
  trainer: 'src/main/trainer/worker-main.ts',
};

await build({
  absWorkingDir: root,
  entryPoints: nodeEntries,
  outdir: 'out/node',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
console.log('built out/node');
