/**
 * Resource limits: a request whose arrays cannot fit is refused with the numbers before
 * anything is allocated, instead of growing until the system kills the process.
 *
 * Available memory is MemAvailable from /proc/meminfo (else os.freemem()), lowered to the
 * cgroup's free allowance where one is set (containers, Slurm). PTYCHO_STUDY_MEMORY_BYTES
 * overrides it, for hosts whose real limit the process cannot see.
 */
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { constants } from 'node:buffer';
import { StudyError, type StudyErrorDetails } from '../../shared/errors';

/** The largest single buffer Node can allocate (4 GiB on 64-bit Node 20). */
export const MAX_BUFFER_BYTES: number = constants.MAX_LENGTH;
/** A typed array holds at most this many elements. */
export const MAX_ARRAY_ELEMENTS = 2 ** 32;
/** Share of the available memory one request may plan to use. */
const USABLE_FRACTION = 0.8;

function readNumber(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export function availableMemoryBytes(): number {
  const override = Number(process.env.PTYCHO_STUDY_MEMORY_BYTES);
  if (Number.isFinite(override) && override > 0) return override;
  let available = freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) available = Number(m[1]) * 1024;
  } catch {
    // not Linux: os.freemem() it is
  }
  const max = readNumber('/sys/fs/cgroup/memory.max');
  const current = readNumber('/sys/fs/cgroup/memory.current');
  if (max !== null && current !== null) available = Math.min(available, Math.max(0, max - current));
  return available;
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * Refuses `bytes` for `what` (a sentence such as "simulate --n-positions 1000000000") when it
 * is more than the usable share of the available memory, or `largestArrayElements` more than
 * one typed array can hold.
 */
export function checkMemory(
  what: string,
  bytes: number,
  details: StudyErrorDetails & { largestArrayElements?: number } = {},
): void {
  const { largestArrayElements, ...rest } = details;
  if (largestArrayElements !== undefined && largestArrayElements > MAX_ARRAY_ELEMENTS)
    throw new StudyError(
      'TOO_LARGE',
      `${what} needs an array of ${largestArrayElements.toExponential(3)} elements, more than one array can hold (${MAX_ARRAY_ELEMENTS})`,
      { found: largestArrayElements, expected: `≤ ${MAX_ARRAY_ELEMENTS} elements`, ...rest },
    );
  const available = availableMemoryBytes();
  if (!(bytes <= available * USABLE_FRACTION))
    throw new StudyError(
      'TOO_LARGE',
      `${what} needs about ${formatBytes(bytes)} of memory; ${formatBytes(available)} is available`,
      { found: formatBytes(bytes), expected: `≤ ${formatBytes(available * USABLE_FRACTION)}`, ...rest },
    );
}
