/**
 * Finds a Python interpreter that can import the given modules (numpy, skimage, torch …).
 * A pyenv `python3` early on PATH often lacks Debian's packages, so we try `python3` and
 * then `/usr/bin/python3`. Used by reference tests and the bench; never by the product.
 */
import { spawnSync } from 'node:child_process';

const CANDIDATES = ['python3', '/usr/bin/python3', 'python'];
const cache = new Map<string, string | null>();

export function findPython(modules: readonly string[]): string | null {
  const key = [...modules].sort().join(',');
  if (cache.has(key)) return cache.get(key) ?? null;
  const probe = modules.map((m) => `import ${m}`).join('; ') || 'pass';
  let found: string | null = null;
  for (const exe of [process.env.PTYCHO_PYTHON, ...CANDIDATES].filter((x): x is string => !!x)) {
    const r = spawnSync(exe, ['-c', probe], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) {
      found = exe;
      break;
    }
  }
  cache.set(key, found);
  return found;
}

/** Like findPython but throws a message naming the Debian packages to install. */
export function requirePython(modules: readonly string[]): string {
  const exe = findPython(modules);
  if (!exe) {
    const pkgs = modules.map((m) => `python3-${m === 'skimage' ? 'skimage' : m}`).join(' ');
    throw new Error(
      `no python3 that imports ${modules.join(', ')} (tried python3 and /usr/bin/python3); install: apt-get install ${pkgs}`,
    );
  }
  return exe;
}

/** Run a Python snippet with the interpreter that has `modules`; returns stdout or throws with stderr. */
export function runPython(modules: readonly string[], code: string, args: string[] = [], input?: string): string {
  const exe = requirePython(modules);
  const r = spawnSync(exe, ['-c', code, ...args], { encoding: 'utf8', input, maxBuffer: 256 << 20, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`python failed (${exe}): ${r.stderr}`);
  return r.stdout;
}
