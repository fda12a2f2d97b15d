/**
 * Helpers for the manifest inspector's tree: JSON paths in the form a user can paste into
 * jq or Python (`jobs[0].result.final_loss`), and search that returns which nodes match and
 * which ancestors must open to show them.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const IDENT = /^[A-Za-z_$][\w$]*$/;

export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const seg = IDENT.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (parent === '') return seg.startsWith('[') ? seg : seg;
  return seg.startsWith('[') ? `${parent}${seg}` : `${parent}.${seg}`;
}

export function isContainer(v: Json): v is Json[] | { [key: string]: Json } {
  return typeof v === 'object' && v !== null;
}

export function entries(v: Json[] | { [key: string]: Json }): [string | number, Json][] {
  return Array.isArray(v) ? v.map((x, i) => [i, x] as [number, Json]) : Object.entries(v);
}

export interface SearchResult {
  /** Paths of nodes whose key or primitive value contains the query. */
  matches: Set<string>;
  /** Paths of containers that must be expanded to reveal a match. */
  open: Set<string>;
}

export function searchJson(root: Json, query: string): SearchResult {
  const q = query.trim().toLowerCase();
  const matches = new Set<string>();
  const open = new Set<string>();
  if (!q) return { matches, open };
  const walk = (v: Json, path: string, key: string | number | null, ancestors: string[]): void => {
    const keyHit = key !== null && String(key).toLowerCase().includes(q);
    const valueHit = !isContainer(v) && String(v).toLowerCase().includes(q);
    if (keyHit || valueHit) {
      matches.add(path);
      for (const a of ancestors) open.add(a);
    }
    if (isContainer(v)) {
      const next = [...ancestors, path];
      for (const [k, child] of entries(v)) walk(child, childPath(path, k), k, next);
    }
  };
  walk(root, '', null, []);
  return { matches, open };
}

/** Short one-line preview of a value for a collapsed node. */
export function preview(v: Json): string {
  if (Array.isArray(v)) return `[${v.length}]`;
  if (isContainer(v)) return `{${Object.keys(v).length}}`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
