/**
 * A lock file beside the manifest, so that the CLI, the server, the app and Slurm tasks on
 * other nodes — separate processes, maybe separate hosts on a shared filesystem — never
 * interleave read-modify-write cycles on one artifact root. It is held only for one update
 * (milliseconds). The lock is linked into place whole (atomic on local disks and NFS) and
 * names host + pid + time + a nonce. A lock is taken over when its owner on this host is
 * gone, or when this process has watched the very same lock (same nonce) sit for the stale
 * window by its own clock — so no pid is checked across hosts and no clocks need agree.
 */
import { randomBytes } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import {
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { StudyError } from '../../shared/errors';
import { tempPathFor, writeFailure, writeFileAtomicSync } from '../data/atomic';

/** How long one lock may be seen unchanged before it counts as abandoned (PTYCHO_LOCK_STALE_MS overrides). */
function staleMs(): number {
  const v = Number(process.env.PTYCHO_LOCK_STALE_MS);
  return Number.isFinite(v) && v > 0 ? v : 30_000;
}

/** The host name locks record: PTYCHO_HOSTNAME where containers on different nodes share one. */
function hostname(): string {
  return process.env.PTYCHO_HOSTNAME || osHostname();
}

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
  nonce?: string;
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
  const body = JSON.stringify({
    pid: process.pid,
    hostname: hostname(),
    time: Date.now(),
    nonce: randomBytes(8).toString('hex'),
  });
  const tmp = tempPathFor(path);
  try {
    writeFileAtomicSync(tmp, body, { durable: false });
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // EEXIST: held; ENOENT: our temp was swept by another process before the link: try again
    // NFS may answer a retransmitted LINK with EEXIST although the first one worked: two links = ours.
    if (code === 'EEXIST') return linkCount(tmp) === 2;
    if (code === 'ENOENT' && existsSync(dirname(path))) return false;
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

function modifiedMsAgo(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function linkCount(path: string): number {
  try {
    return statSync(path).nlink;
  } catch {
    return 0;
  }
}

/**
 * What identifies one particular lock file: its whole text (its nonce makes every lock's
 * text unique); null when there is no lock.
 */
function lockIdentity(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const info = JSON.parse(text) as LockInfo;
    return typeof info === 'object' && info !== null && typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

/** When this process first saw each lock (by identity), on its own monotonic clock. */
const firstSeen = new Map<string, { identity: string; at: number }>();

/**
 * A lock is abandoned when its owner on this host is gone, or when this process has seen
 * the same lock for longer than any update takes (an unreadable one — locks are linked into
 * place whole, so a writer died — after a short grace). Both rules use only this host's
 * knowledge: another host's pid or clock is never consulted.
 */
function isAbandoned(path: string, identity: string | null): boolean {
  if (identity === null) return false; // gone meanwhile: just try again
  const info = parseLock(identity);
  if (info && info.hostname === hostname() && info.pid !== process.pid && !isProcessAlive(info.pid)) return true;
  if (!info && modifiedMsAgo(path) > UNREADABLE_GRACE_MS) return true;
  const now = performance.now();
  const seen = firstSeen.get(path);
  if (!seen || seen.identity !== identity) {
    firstSeen.set(path, { identity, at: now });
    return false;
  }
  return now - seen.at > (info ? staleMs() : UNREADABLE_GRACE_MS);
}

/**
 * Remove an abandoned lock without ever removing a fresh one that replaced it meanwhile:
 * rename it aside (atomic: one breaker wins), check it is the lock judged abandoned, and
 * put back anything else.
 */
function breakLock(path: string, judged: string | null): void {
  const aside = `${path}.broken-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // another process broke or released it first
  }
  const identity = lockIdentity(aside);
  if (judged !== null && identity !== null && identity !== judged) {
    try {
      linkSync(aside, path);
    } catch {
      // a newer lock is already in place
    }
  }
  rmSync(aside, { force: true });
  firstSeen.delete(path);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** In-process queue per lock path, so one process never waits on its own lock file. */
const chains = new Map<string, Promise<unknown>>();

export async function withFileLock<T>(lockPath: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const previous = chains.get(lockPath) ?? Promise.resolve();
  const run = previous.then(async () => {
    const deadline = Date.now() + timeoutMs;
    while (!tryAcquire(lockPath)) {
      const identity = lockIdentity(lockPath);
      if (isAbandoned(lockPath, identity)) {
        breakLock(lockPath, identity);
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
