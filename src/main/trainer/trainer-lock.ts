/**
 * One trainer per job folder. The manifest already refuses to start a job whose recorded
 * trainer lives, but a trainer whose pid never reached the manifest (its parent killed in
 * the moment between fork and the write) would not be seen there. This lock, taken before
 * anything in the folder is touched, closes that gap: a second trainer refuses to start
 * while the first lives, instead of interleaving its steps into the same events.jsonl.
 *
 * `trainer.lock` holds the owner's pid and host. It is taken over when that process is gone
 * (same host), or when its heartbeat (the file's mtime, refreshed every 30 s) is older than
 * two minutes (another host on a shared filesystem, which cannot be asked).
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StudyError } from '../../shared/errors';
import { isProcessAlive } from '../study/lock';

export const TRAINER_LOCK_FILE = 'trainer.lock';
const HEARTBEAT_MS = 30_000;
const STALE_MS = 120_000;
const UNREADABLE_STALE_MS = 5_000;

/** Lock files this process holds (a file naming our pid but not listed here is left over). */
const held = new Set<string>();

interface Owner {
  pid: number;
  hostname: string;
  started_at: string;
}

function readOwner(path: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.hostname === 'string' ? (o as Owner) : null;
  } catch {
    return null;
  }
}

function isStale(path: string, owner: Owner | null): boolean {
  let age = Number.POSITIVE_INFINITY;
  try {
    age = Date.now() - statSync(path).mtimeMs;
  } catch {
    return true; // gone already
  }
  // Unreadable: written in one call right after creation, so only a moment old unless abandoned.
  if (!owner) return age > UNREADABLE_STALE_MS;
  if (owner.hostname !== hostname()) return age > STALE_MS;
  if (owner.pid === process.pid) return !held.has(path);
  return !isProcessAlive(owner.pid);
}

export interface TrainerLock {
  readonly path: string;
  release(): void;
}

export function acquireTrainerLock(artifactDir: string): TrainerLock {
  const path = join(artifactDir, TRAINER_LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, hostname: hostname(), started_at: new Date().toISOString() }));
      } catch (e) {
        // A full disk must not leave an empty lock that blocks the next trainer.
        closeSync(fd);
        rmSync(path, { force: true });
        throw e;
      }
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readOwner(path);
      if (attempt < 3 && isStale(path, owner)) {
        rmSync(path, { force: true });
        continue;
      }
      throw new StudyError('LOCKED', `another trainer is already training in ${artifactDir}`, {
        file: path,
        found: owner ? `pid ${owner.pid} on ${owner.hostname}, since ${owner.started_at}` : 'an unreadable lock',
        hint: 'wait for it to stop (it does within seconds once its parent is gone), then run again with --resume',
      });
    }
  }
  held.add(path);
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(path, now, now);
    } catch {
      // the folder may be gone; the training's own writes report that
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const onExit = () => release();
  process.once('exit', onExit);
  function release() {
    if (!held.delete(path)) return;
    clearInterval(heartbeat);
    process.off('exit', onExit);
    const owner = readOwner(path);
    if (owner && owner.pid === process.pid && owner.hostname === hostname()) rmSync(path, { force: true });
  }
  return { path, release };
}
