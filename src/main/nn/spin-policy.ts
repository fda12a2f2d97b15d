/**
 * Whether a CPU session's idle intra-op threads spin or block while a step runs.
 *
 * A blocked worker has to be woken (a futex and, on a virtual machine, an interrupt to a
 * halted vCPU) at each of the ≈ 1,500 parallel sections of a train step; on a quiet 2-vCPU
 * machine that left 20–40% of the second core unused (train step 1.10–1.25× faster spinning,
 * docs/benchmarks.md § nn). A spinning worker, though, takes a core that another busy process
 * needs, and there blocking wins (0.78× spinning with one busy process on 2 vCPUs). So:
 * spin when the machine has room for it — a spare core beyond the training threads, or,
 * on a machine without one, no other process using the CPU in the moments before the
 * sessions are created. Spinning always stops when a run returns (ORT's
 * `session.force_spinning_stop`), so threads never spin between steps.
 *
 * `PTYCHO_ORT_SPIN=1` / `0` forces spinning / blocking.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export interface SpinDecision {
  spin: boolean;
  /** Why, for the job log. */
  reason: string;
}

/** How long the idle probe watches the CPU, ms. */
const PROBE_MS = 250;
/** Other processes may use up to this much of a core and still leave room to spin. */
const SLACK_CORES = 0.35;

export interface CpuTimes {
  busy: number;
  total: number;
  /** Ticks the host gave this machine's cores to others (a virtual machine's steal). */
  steal: number;
}

/**
 * Whole-machine CPU ticks from /proc/stat (Linux). `busy` is what processes of this machine
 * used; a virtual machine's steal (its host running others on these cores) is apart: it
 * slows a spinning and a blocked pool alike, and no process here could use the core instead.
 */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((n) => !Number.isFinite(n))) return null;
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq;
  return { busy, total: busy + idle + iowait + steal, steal };
}

/** The decision in words, as a job's log and the bench print it. */
export function describeSpin(d: SpinDecision): string {
  return `idle threads ${d.spin ? 'spin during a step' : 'block'} (${d.reason})`;
}

/**
 * The decision from what was measured: `othersCores` = cores other processes kept busy (null
 * when the machine cannot tell).
 */
export function decideSpin(threads: number, cores: number, othersCores: number | null): SpinDecision {
  if (threads <= 1) return { spin: false, reason: 'one thread: no pool to wake' };
  if (cores >= threads + 2) return { spin: true, reason: `${cores} cores for ${threads} threads` };
  if (othersCores === null) return { spin: true, reason: 'machine load unknown' };
  const free = cores - othersCores;
  const spin = othersCores <= cores - threads + SLACK_CORES;
  return {
    spin,
    reason: `${free.toFixed(1)} of ${cores} cores free for ${threads} threads`,
  };
}

/**
 * The machine's CPU ticks now (null off Linux). Synchronous, so that a reading and our own CPU
 * time can be taken at the same moment.
 */
export function readProcStat(): CpuTimes | null {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return null;
  }
}

/** Cores that other processes kept busy over `ms` (ours subtracted), or null off Linux. */
async function othersBusyCores(ms: number, cores: number): Promise<number | null> {
  const a = readProcStat();
  if (!a) return null;
  const ours0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const b = readProcStat();
  const ours = process.cpuUsage(ours0);
  const wall = (performance.now() - t0) / 1000;
  if (!b || b.total <= a.total) return null;
  const busyCores = ((b.busy - a.busy) / (b.total - a.total)) * cores;
  const ourCores = (ours.user + ours.system) / 1e6 / wall;
  return Math.max(0, busyCores - ourCores);
}

const decisions = new Map<number, Promise<SpinDecision>>();

/**
 * The decision for sessions with `threads` intra-op threads, made once per process (a
 * training worker serves one run, and the sessions it keeps across jobs keep their
 * setting). The first call starts the probe: call it early (a job's start) so the probe
 * overlaps other work, and again when creating the sessions.
 */
export function spinDecision(threads: number): Promise<SpinDecision> {
  const env = process.env.PTYCHO_ORT_SPIN;
  if (env === '1') return Promise.resolve({ spin: true, reason: 'PTYCHO_ORT_SPIN=1' });
  if (env === '0') return Promise.resolve({ spin: false, reason: 'PTYCHO_ORT_SPIN=0' });
  const kept = decisions.get(threads);
  if (kept) return kept;
  const cores = availableParallelism();
  const decision =
    threads <= 1 || cores >= threads + 2
      ? Promise.resolve(decideSpin(threads, cores, null))
      : othersBusyCores(PROBE_MS, cores).then((others) => decideSpin(threads, cores, others));
  decisions.set(threads, decision);
  return decision;
}

/** Tests: forget the kept decision. */
export function resetSpinDecision(): void {
  decisions.clear();
}
