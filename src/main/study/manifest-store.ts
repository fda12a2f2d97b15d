/**
 * Reading and writing `training_manifest.json`. Every change is a locked
 * read-merge-write: jobs are merged by id and runs appended, so two invocations on one
 * artifact root never erase each other's records, and each write is atomic so a crash at
 * any moment leaves valid JSON describing what had happened up to then.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StudyError } from '../../shared/errors';
import {
  MANIFEST_FILE,
  type ManifestJob,
  SKIP_SUMMARY_FILE,
  SkipSummary,
  sortManifestJobs,
  TrainingManifest,
} from '../../shared/manifest';
import { removeStaleTempFiles } from '../data/atomic';
import { readFileNamed } from '../data/read-file';
import { writeJsonAtomic } from './atomic';
import { withFileLock } from './lock';

export function manifestPath(artifactRoot: string): string {
  return join(resolve(artifactRoot), MANIFEST_FILE);
}

export function skipSummaryPath(artifactRoot: string): string {
  return join(resolve(artifactRoot), SKIP_SUMMARY_FILE);
}

export function lockPath(artifactRoot: string): string {
  return `${manifestPath(artifactRoot)}.lock`;
}

export interface ManifestRead {
  path: string;
  manifest: TrainingManifest | null;
  /** The file's text as on disk (for the UI's raw view); null when absent. */
  raw: string | null;
}

function parseManifestText(path: string, raw: string): TrainingManifest {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new StudyError('DATA_CONTRACT', `manifest is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  const r = TrainingManifest.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue.path.join('.');
    throw new StudyError(
      'DATA_CONTRACT',
      `manifest does not match schema version 1 at ${key || '(root)'}: ${issue.message}`,
      {
        file: path,
        key,
        hint:
          typeof json === 'object' && json !== null && !('schema_version' in json)
            ? 'this looks like a manifest of the original Python study; use a new artifact root'
            : undefined,
      },
    );
  }
  return r.data;
}

export function readManifestFile(artifactRoot: string): ManifestRead {
  const path = manifestPath(artifactRoot);
  if (!existsSync(path)) return { path, manifest: null, raw: null };
  const raw = readFileNamed(path, 'utf8');
  return { path, manifest: parseManifestText(path, raw), raw };
}

export function readSkipSummary(artifactRoot: string): SkipSummary | null {
  const path = skipSummaryPath(artifactRoot);
  if (!existsSync(path)) return null;
  try {
    return SkipSummary.parse(JSON.parse(readFileNamed(path, 'utf8')));
  } catch (e) {
    throw new StudyError('DATA_CONTRACT', `skip summary is unreadable: ${(e as Error).message}`, { file: path });
  }
}

/**
 * A writer killed between writing its temp file and renaming it leaves the temp behind (the
 * manifest itself stays whole). Under the lock, temps of processes that are gone are removed.
 */
function sweepStaleTemps(root: string): void {
  // the manifest's temps are written only under this lock, and a lock's temp that vanishes is
  // retried: no live writer can lose one
  const ours = new Set([MANIFEST_FILE, `${MANIFEST_FILE}.lock`]);
  removeStaleTempFiles(root, { minAgeMs: 0, target: (name) => ours.has(name) });
  // others (the lock's, comparison.*) may belong to a writer on another host of a shared disk
  removeStaleTempFiles(root);
}

/**
 * Locked read-modify-write. `mutate` gets the current manifest (null when none yet) and
 * returns the next one, or null to leave the file untouched.
 */
export async function updateManifest(
  artifactRoot: string,
  mutate: (current: TrainingManifest | null) => TrainingManifest | null,
): Promise<TrainingManifest | null> {
  const root = resolve(artifactRoot);
  mkdirSync(root, { recursive: true });
  return withFileLock(lockPath(root), () => {
    sweepStaleTemps(root);
    const { manifest } = readManifestFile(root);
    const next = mutate(manifest);
    if (next === null) return manifest;
    const valid = TrainingManifest.parse({ ...next, jobs: sortManifestJobs(next.jobs) });
    writeJsonAtomic(manifestPath(root), valid);
    return valid;
  });
}

/**
 * Record each evaluated job's score summary as `result.evaluation` in its manifest entry
 * (locked read-merge-write). Evaluation reaches the manifest only through this, so the
 * store stays its one writer; jobs without a result (never finished) are left alone.
 */
export async function recordJobEvaluations(
  artifactRoot: string,
  summaries: ReadonlyMap<string, Record<string, unknown>>,
): Promise<void> {
  if (summaries.size === 0) return;
  await updateManifest(artifactRoot, (current) => {
    if (!current) return null;
    return {
      ...current,
      jobs: current.jobs.map((j) =>
        summaries.has(j.id) && j.result ? { ...j, result: { ...j.result, evaluation: summaries.get(j.id) } } : j,
      ),
    };
  });
}

/** Replace jobs with the same id and add new ones (the merge rule of one manifest per root). */
export function mergeJobs(existing: ManifestJob[], updates: ManifestJob[]): ManifestJob[] {
  const byId = new Map(existing.map((j) => [j.id, j]));
  for (const u of updates) byId.set(u.id, u);
  return sortManifestJobs([...byId.values()]);
}

export function writeSkipSummary(artifactRoot: string, summary: SkipSummary): string {
  const path = skipSummaryPath(artifactRoot);
  writeJsonAtomic(path, SkipSummary.parse(summary));
  return path;
}
