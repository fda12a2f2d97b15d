/**
 * onnxruntime's profile (the JSON trace written by a session created with enableProfiling,
 * here through PTYCHO_ORT_PROFILE) reduced to where a step's time goes: per-step totals by
 * category and the largest costs by operator (CPU provider: `Node` events, one per kernel
 * run; on a GPU provider the host's cost of recording it) or by GPU program (WebGPU
 * provider: its timestamp-query events, category `Api`, GPU time in µs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  ph?: string;
  args?: Record<string, unknown>;
}

export interface ProfileCost {
  /** Event category: 'Node' (a kernel's host-side run), 'Api' (a GPU program's timestamps), … */
  cat: string;
  /** The operator type (Node events) or the program/kernel name with node-specific parts dropped. */
  key: string;
  us_per_step: number;
  count_per_step: number;
  share: number;
}

export interface ProfileSummary {
  /** Session runs seen (model_run events): the divisor of every per-step figure. */
  runs: number;
  /** Mean model_run duration (host wall time of one step as ORT saw it), µs. */
  run_us: number;
  /** Per-step µs summed by category (Node kernel_time and GPU program events separately). */
  by_category: Record<string, number>;
  /** The largest costs, largest first. */
  top: ProfileCost[];
}

/**
 * The operator an event belongs to: `op_name` on Node events; WebGPU's GPU events are named
 * '<node>&<op>&<program>' (e.g. 'Conv_3&Conv&Conv2DMatMul'): the op, plus the program where
 * it differs.
 */
function eventKey(e: ProfileEvent): string {
  const op = e.args?.op_name;
  if (typeof op === 'string' && op) return op;
  const name = (e.name ?? '?').replace(/_kernel_time$/, '');
  const parts = name.split('&');
  if (parts.length >= 2 && parts[1]) return parts[2] && parts[2] !== parts[1] ? `${parts[1]}/${parts[2]}` : parts[1];
  return name;
}

export function summarizeProfile(events: readonly ProfileEvent[], top = 20): ProfileSummary {
  const runs = events.filter((e) => e.name === 'model_run');
  const n = Math.max(1, runs.length);
  const runUs = runs.reduce((a, e) => a + (e.dur ?? 0), 0) / n;
  const byCat = new Map<string, number>();
  const costs = new Map<string, { cat: string; key: string; us: number; count: number }>();
  for (const e of events) {
    if (typeof e.dur !== 'number' || e.cat === 'Session') continue;
    // Node events come in threes (fence_before, kernel_time, fence_after): count the kernel only.
    if (e.cat === 'Node' && !(e.name ?? '').endsWith('_kernel_time')) continue;
    const cat = e.cat ?? '?';
    byCat.set(cat, (byCat.get(cat) ?? 0) + e.dur);
    const key = eventKey(e);
    const id = `${cat}\u0000${key}`;
    const c = costs.get(id) ?? { cat, key, us: 0, count: 0 };
    c.us += e.dur;
    c.count++;
    costs.set(id, c);
  }
  const catTotal = (cat: string) => byCat.get(cat) ?? 0;
  return {
    runs: runs.length,
    run_us: runUs,
    by_category: Object.fromEntries([...byCat].map(([k, v]) => [k, v / n])),
    top: [...costs.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((c) => ({
        cat: c.cat,
        key: c.key,
        us_per_step: c.us / n,
        count_per_step: c.count / n,
        share: catTotal(c.cat) > 0 ? c.us / catTotal(c.cat) : 0,
      })),
  };
}

/** Every profile file written under `prefix` (ORT appends a timestamp and '.json'). */
export function profileFiles(prefix: string): string[] {
  const dir = dirname(prefix);
  const stem = basename(prefix);
  return readdirSync(dir)
    .filter((f) => f.startsWith(stem) && f.endsWith('.json'))
    .map((f) => join(dir, f));
}

/** Reads a profile file: a JSON array of events (ORT's format). */
export function readProfile(path: string): ProfileEvent[] {
  const text = readFileSync(path, 'utf8');
  let events: unknown;
  try {
    events = JSON.parse(text);
  } catch (e) {
    // ORT leaves a file unterminated if the process ends before the session is released.
    throw new Error(`${path}: not a complete onnxruntime profile (${(e as Error).message})`);
  }
  if (!Array.isArray(events)) throw new Error(`${path}: expected a JSON array of trace events`);
  return events as ProfileEvent[];
}
