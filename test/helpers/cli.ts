/** Run the built CLI (out/node via bin/) as a user would, capturing output and exit code. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const cliBin = join(repoRoot, 'bin', 'ptycho-study.mjs');

let built = false;
/** Build out/node once per test process if a source change made it stale or it is missing. */
export function ensureBuilt(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build-node.mjs')], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build-node failed:\n${r.stderr}`);
  if (!existsSync(join(repoRoot, 'out', 'node', 'cli.js'))) throw new Error('out/node/cli.js missing after build');
  built = true;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCliSync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  ensureBuilt();
  const r = spawnSync(process.execPath, [cliBin, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Start a long-running CLI command and resolve once a stdout line matches. */
export function startCli(args: string[], waitFor: RegExp, opts: { cwd?: string } = {}) {
  ensureBuilt();
  const child = spawn(process.execPath, [cliBin, ...args], {
    cwd: opts.cwd ?? repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${waitFor}; stdout=${out} stderr=${err}`)),
      30_000,
    );
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(waitFor);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ${waitFor}; stdout=${out} stderr=${err}`));
    });
  });
  return {
    child,
    ready,
    stdout: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
