// Bundles the Node-side entry points (CLI, server, training worker) with esbuild into
// out/node/ (options in node-bundle.mjs: dependencies inside, onnxruntime-node external).
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBundleOptions } from './node-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** name → entry; every Node-side process entry belongs here. */
export const nodeEntries = {
  cli: 'src/main/cli/main.ts',
  trainer: 'src/main/trainer/worker-main.ts',
};

// Written in memory, then each file renamed into place: a CLI, server or training worker that
// starts while a build runs reads the old file or the new one, never a half-written one.
const result = await build({
  absWorkingDir: root,
  entryPoints: nodeEntries,
  outdir: 'out/node',
  write: false,
  ...nodeBundleOptions,
  sourcemap: true,
});
mkdirSync(join(root, 'out', 'node'), { recursive: true });
for (const file of result.outputFiles) {
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
console.log('built out/node');
