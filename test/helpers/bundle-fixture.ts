/**
 * Bundles one of `test/fixtures/*.fixture.ts` into a runnable ESM script (esbuild, Node 20),
 * for the tests that need a second process: lock contention, a killed study, a study
 * followed from another process.
 */
import { join } from 'node:path';
import { build } from 'esbuild';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

/** Writes `test/fixtures/<name>.fixture.ts` bundled to `outfile`; returns `outfile`. */
export async function bundleFixture(name: string, outfile: string, external: string[] = []): Promise<string> {
  await build({
    entryPoints: [join(FIXTURES, `${name}.fixture.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
    external,
  });
  return outfile;
}
