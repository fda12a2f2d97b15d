#!/usr/bin/env node
// Launcher for the bundled CLI. `npm ci` builds out/node via the package's prepare script.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'out', 'node', 'cli.js');
if (!existsSync(entry)) {
  console.error(`error: ${entry} is missing. Run \`npm run build\` in ${root} (npm ci / npm install run it for you).`);
  process.exit(1);
}
await import(pathToFileURL(entry).href);
