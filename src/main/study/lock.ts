/**
 * A lock file beside the manifest, so that the CLI, the server and the app — separate
 * processes — never interleave read-modify-write cycles on one artifact root. It is held
 * only for one update (milliseconds); a lock left by a process that died is taken over.
 */
import { hostname } from 'node:os';
import { closeSync, existsSync, linkSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StudyError } from '../../shared/errors';
import { tempPathFor, writeFailure, writeFileAtomicSync } from '../data/atomic';

const STALE_MS = 30_000;

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockInfo {
  pid: number;
  hostname: string;
  time: number;
}

function readLock(path: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return null;
  }
}

/**
 * The lock's content is written to a temp file first and hard-linked to the lock's name, so a
 * lock file is never seen empty or half-written, and a full disk leaves no lock behind (the
 * error names the lock file). Where hard links are not supported, exclusive create + write.
 */
function tryAcquire(path: string): boolean {
  const body = JSON.stringify({ pid: process.pid, hostname: hostname(), time: Date.now() });
  const tmp = tempPathFor(path);
  try {
    writeFileAtomicSync(tmp, body, { durable: false });
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // EEXIST: held; ENOENT: our temp was swept by another process before the link: try again
    if (code === 'EEXIST' || (code === 'ENOENT' && existsSync(dirname(path)))) return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV')
      return createAndWrite(path, body);
    if (e instanceof StudyError)
      throw new StudyError('WRITE_FAILED', e.message.replace(tmp, path), { ...e.details, file: path });
    throw writeFailure(path, e);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function createAndWrite(path: string, body: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeFailure(path, e);
    return false;
  }
  try {
    const bytes = Buffer.from(body);
    if (writeSync(fd, bytes) !== bytes.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
  } catch (e) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw writeFailure(path, e);
  }
  closeSync(fd);
  return true;
}

/** Grace for a lock file that cannot be parsed: one written by a crashed (or older) writer. */
const UNREADABLE_GRACE_MS = 2_000;

/** A lock is abandoned when its owner on this host is gone, or it is older than any update could take. */
function isAbandoned(info: LockInfo | null, path: string): boolean {
  if (!info) {
    // Locks are linked into place whole, so an empty or unparsable one was left by a writer that died.
    try {
      return Date.now() - statSync(path).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }
  if (info.hostname === hostname() && info.pid !== process.pid && !isProcessAlive(info.pid)) return true;
  return Date.now() - info.time > STALE_MS;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** In-process queue per lock path, so one process never waits on its own lock file. */
const chains = new Map<string, Promise<unknown>>();

export async function withFileLock<T>(lockPath: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const previous = chains.get(lockPath) ?? Promise.resolve();
  const run = previous.then(async () => {
    const deadline = Date.now() + timeoutMs;
    while (!tryAcquire(lockPath)) {
      if (isAbandoned(readLock(lockPath), lockPath)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        const info = readLock(lockPath);
        throw new StudyError('LOCKED', 'the manifest is locked by another process', {
          file: lockPath,
          found: info ? `pid ${info.pid} on ${info.hostname}` : 'unreadable lock',
          hint: 'wait for that process, or remove the lock file if it is certainly gone',
        });
      }
      await sleep(15);
    }
    try {
      return await fn();
    } finally {
      rmSync(lockPath, { force: true });
    }
  });
  const settled = run.catch(() => undefined);
  chains.set(lockPath, settled);
  void settled.then(() => {
    if (chains.get(lockPath) === settled) chains.delete(lockPath);
  });
  return run;
}
