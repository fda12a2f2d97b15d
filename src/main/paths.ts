/**
 * Where the installed package lives, found by walking up from this module — the same code
 * runs from `src/` under vitest and from `out/` once bundled.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'ptycho-study') {
          cached = dir;
          return dir;
        }
      } catch {
        // keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot locate the ptycho-study package root');
    dir = parent;
  }
}

export function packageJson(): { version: string; name: string } {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string; name: string };
}

/** The built renderer (index.html + assets) served in browser mode. */
export function rendererDir(): string {
  return join(packageRoot(), 'out', 'renderer');
}
