/**
 * Staged output for the data commands (`simulate`, `overlap`): everything is written into a
 * hidden folder inside the output root, validated there, and only then moved over the
 * previous files, one rename each. A run that fails — bad settings, a file that breaks the
 * contract, a full disk, a kill — leaves the previous data exactly as it was.
 *
 * The folder is named `.staging.<pid>.<hex>.tmp`: readers skip hidden names, and the next
 * run into the same root removes folders whose writer is gone (`removeStaleTempFiles`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { StudyError } from '../../shared/errors';
import { removeStaleTempFiles, writeFailure } from './atomic';

export interface StagedOutput {
  /** The output root the files are meant for. */
  readonly root: string;
  /** The hidden folder they are written to first. */
  readonly dir: string;
  /** Where to write `rel` (relative to the root) while staging. */
  path(...rel: string[]): string;
  /** The final path of a staged path (for messages and the files' own records). */
  finalPath(staged: string): string;
  /** Moves every staged file over its final path (the names in `last` after the rest), then removes the folder. */
  commit(last?: readonly string[]): Promise<string[]>;
  /** Removes the staged files; the root is untouched. */
  discard(): Promise<void>;
  /** An error raised while staging, restated for the final paths (a full disk names the file meant). */
  explain(e: unknown): unknown;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

export async function stageOutput(outRoot: string): Promise<StagedOutput> {
  const root = resolve(outRoot);
  try {
    await mkdir(root, { recursive: true });
  } catch (e) {
    throw writeFailure(root, e);
  }
  removeStaleTempFiles(root);
  const dir = join(root, `.staging.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  await mkdir(dir);
  const finalPath = (staged: string) => {
    const rel = relative(dir, staged);
    return rel.startsWith('..') ? staged : join(root, rel);
  };
  return {
    root,
    dir,
    path: (...rel) => join(dir, ...rel),
    finalPath,
    async commit(last = []) {
      const files = await listFiles(dir);
      const isLast = (f: string) => last.includes(relative(dir, f).split(sep).join('/'));
      const ordered = [...files.filter((f) => !isLast(f)), ...files.filter(isLast)];
      // staged files are written without a flush each; flush them all before any replaces a
      // previous file, so a power cut after the swap cannot leave empty files under those names
      for (const f of ordered) {
        try {
          const fh = await open(f, 'r');
          try {
            await fh.sync();
          } finally {
            await fh.close();
          }
        } catch (e) {
          throw writeFailure(finalPath(f), e);
        }
      }
      const moved: string[] = [];
      for (const f of ordered) {
        const target = finalPath(f);
        try {
          await mkdir(dirname(target), { recursive: true });
          await rename(f, target);
        } catch (e) {
          throw writeFailure(target, e);
        }
        moved.push(target);
      }
      await rm(dir, { recursive: true, force: true });
      return moved;
    },
    async discard() {
      await rm(dir, { recursive: true, force: true });
    },
    explain(e) {
      if (!(e instanceof StudyError) || !e.message.includes(dir)) return e;
      const file = e.details.file ? finalPath(e.details.file) : undefined;
      return new StudyError(e.code, `${e.message.split(dir).join(root)} (nothing in ${root} was replaced)`, {
        ...e.details,
        file,
      });
    },
  };
}

/** True for a path with a hidden component below `root` (staging folders, temp files): readers skip those. */
export function isHiddenBelow(root: string, path: string): boolean {
  return relative(root, path)
    .split(sep)
    .some((part) => part.startsWith('.') && part !== '.' && part !== '..');
}
