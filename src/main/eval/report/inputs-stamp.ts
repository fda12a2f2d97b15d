/**
 * Is the report up to date? The report is a pure function of the files under the artifact
 * root (manifest, events, eval.json, recon.npz, classical results, …), the Phase C preset
 * record and the code that draws it. Its stamp lists every such file by size and mtime plus
 * the package version; a report whose recorded stamp equals the current one is kept.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { packageJson } from '../../paths';

export const STAMP_FILE = '.report-inputs.json';

export interface ReportStamp {
  version: string;
  files: Record<string, [size: number, mtimeMs: number]>;
}

function walk(dir: string, root: string, skip: string, out: ReportStamp['files']): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (path === skip || name.endsWith('.tmp') || name.endsWith('.lock')) continue;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path);
    } catch {
      continue; // removed while walking
    }
    if (st.isDirectory()) walk(path, root, skip, out);
    else if (st.isFile()) out[relative(root, path)] = [st.size, st.mtimeMs];
  }
}

export function reportStamp(artifactRoot: string, reportDir: string, phaseCRoot: string | null): ReportStamp {
  const files: ReportStamp['files'] = {};
  walk(artifactRoot, artifactRoot, reportDir, files);
  const preset = phaseCRoot ? join(phaseCRoot, 'study_preset.json') : null;
  if (preset && existsSync(preset)) {
    const st = statSync(preset);
    files[preset] = [st.size, st.mtimeMs];
  }
  return { version: packageJson().version, files };
}

/** Null when the report in `reportDir` was drawn from exactly these inputs, else why not. */
export function reportNeededReason(reportDir: string, htmlName: string, stamp: ReportStamp): string | null {
  if (!existsSync(join(reportDir, htmlName))) return 'no report yet';
  let old: ReportStamp;
  try {
    old = JSON.parse(readFileSync(join(reportDir, STAMP_FILE), 'utf8')) as ReportStamp;
  } catch {
    return 'the report records no inputs (drawn by an older version)';
  }
  if (old.version !== stamp.version) return `drawn by version ${old.version}`;
  for (const [path, v] of Object.entries(stamp.files)) {
    const was = old.files?.[path];
    if (!was) return `new input: ${path}`;
    if (was[0] !== v[0] || was[1] !== v[1]) return `input changed: ${path}`;
  }
  for (const path of Object.keys(old.files ?? {})) if (!(path in stamp.files)) return `input removed: ${path}`;
  return null;
}
