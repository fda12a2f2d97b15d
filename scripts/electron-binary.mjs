// Where Electron's binary is, without triggering its first-use download: electron ≥ 42
// fetches the binary lazily, so we read node_modules/electron/path.txt and dist/ ourselves.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** @returns {{ path: string } | { path: null, reason: string }} */
export function findElectronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, process.platform === 'win32' ? 'electron.exe' : 'electron');
    return existsSync(p)
      ? { path: p }
      : { path: null, reason: `ELECTRON_OVERRIDE_DIST_PATH set but ${p} does not exist` };
  }
  let pkgDir;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { path: null, reason: 'the electron package is not installed' };
  }
  const pathTxt = join(pkgDir, 'path.txt');
  const dist = join(pkgDir, 'dist');
  if (!existsSync(pathTxt) || !existsSync(dist)) {
    return {
      path: null,
      reason: `Electron's binary has not been downloaded (${pathTxt} or ${dist} missing; it needs network access to Electron's release host)`,
    };
  }
  const bin = join(dist, readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin) ? { path: bin } : { path: null, reason: `${bin} listed in path.txt does not exist` };
}
