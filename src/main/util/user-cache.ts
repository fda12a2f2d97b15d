/**
 * The app's folders under the user's cache folder (`~/.cache/ptycho-study/…`, or under
 * XDG_CACHE_HOME), and how they are kept small.
 */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function userCacheDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ptycho-study', name);
}

/**
 * Keep the `keep` most recently modified files of `dir` that end in `suffix`; temporary files
 * (`.tmp`) older than an hour, left by a writer killed mid-save, go too.
 */
export function pruneCacheDir(dir: string, suffix: string, keep: number): void {
  const entries = readdirSync(dir).map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }));
  const files = entries.filter((e) => e.f.endsWith(suffix)).sort((a, b) => b.t - a.t);
  for (const { f } of files.slice(keep)) unlinkSync(join(dir, f));
  const stale = Date.now() - 3_600_000;
  for (const { f } of entries.filter((e) => e.f.endsWith('.tmp') && e.t < stale)) unlinkSync(join(dir, f));
}
