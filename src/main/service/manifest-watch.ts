/**
 * Follow artifact roots' manifests on disk, so that a run started by another process (a CLI
 * `train`, a Slurm task, a second window) shows in an open workbench within a second: a
 * watch on the root's folder (the manifest is replaced by rename, which a watch on the file
 * itself would lose) plus a cheap stat poll for file systems where watches miss changes
 * (network mounts). Changes are debounced, the manifest re-read, and each job whose entry
 * changed is reported once.
 */
import { existsSync, type FSWatcher, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import { MANIFEST_FILE, type ManifestJob, type TrainingManifest } from '../../shared/manifest';
import { manifestPath, readManifestFile } from '../study/manifest-store';

export interface ManifestChange {
  artifactRoot: string;
  manifest: TrainingManifest;
  /** Entries that are new or differ from the last read (status, progress, result, …). */
  changed: ManifestJob[];
}

export interface ManifestWatchOptions {
  onChange(change: ManifestChange): void;
  onError?(artifactRoot: string, error: unknown): void;
  /** Quiet time after a change before the manifest is read (default 100 ms). */
  debounceMs?: number;
  /** Stat poll interval (default 1000 ms). */
  pollMs?: number;
  /** Roots followed at once; the least recently asked-for one is dropped beyond it (default 8). */
  maxRoots?: number;
}

interface Followed {
  watcher: FSWatcher | null;
  poll: NodeJS.Timeout;
  debounce: NodeJS.Timeout | null;
  /** mtime, size and inode of the manifest at the last read. */
  stamp: string;
  jobs: Map<string, string>;
}

function stampOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return 'absent';
  }
}

/** What makes an entry different for a front end (updated_at alone would be enough; the rest guards clocks). */
function entryKey(j: ManifestJob): string {
  return JSON.stringify([j.status, j.run_id, j.updated_at, j.progress, j.result?.status, j.result?.error, j.dry_run]);
}

export class ManifestWatch {
  private readonly roots = new Map<string, Followed>();

  constructor(private readonly options: ManifestWatchOptions) {}

  /** Follow `artifactRoot` (idempotent). The manifest as it is now is the baseline: nothing is reported for it. */
  follow(artifactRoot: string): void {
    const existing = this.roots.get(artifactRoot);
    if (existing) {
      // most recently asked-for last
      this.roots.delete(artifactRoot);
      this.roots.set(artifactRoot, existing);
      if (!existing.watcher) existing.watcher = this.watchFolder(artifactRoot);
      return;
    }
    const f: Followed = {
      watcher: null,
      poll: setInterval(() => this.check(artifactRoot), this.options.pollMs ?? 1000),
      debounce: null,
      stamp: 'absent',
      jobs: new Map(),
    };
    f.poll.unref();
    this.roots.set(artifactRoot, f);
    this.read(artifactRoot, f, false);
    f.watcher = this.watchFolder(artifactRoot);
    const max = this.options.maxRoots ?? 8;
    while (this.roots.size > max) this.stop(this.roots.keys().next().value as string);
  }

  following(): string[] {
    return [...this.roots.keys()];
  }

  close(): void {
    for (const root of [...this.roots.keys()]) this.stop(root);
  }

  private stop(artifactRoot: string): void {
    const f = this.roots.get(artifactRoot);
    if (!f) return;
    f.watcher?.close();
    clearInterval(f.poll);
    if (f.debounce) clearTimeout(f.debounce);
    this.roots.delete(artifactRoot);
  }

  /** A watch on the root's folder, or null while it does not exist (the poll then finds it). */
  private watchFolder(artifactRoot: string): FSWatcher | null {
    const dir = dirname(manifestPath(artifactRoot));
    if (!existsSync(dir)) return null;
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || String(name).startsWith(MANIFEST_FILE)) this.schedule(artifactRoot);
      });
      w.on('error', () => {
        // the folder went away: the poll carries on and re-watches when it is back
        const f = this.roots.get(artifactRoot);
        if (f?.watcher === w) f.watcher = null;
        w.close();
      });
      return w;
    } catch {
      return null;
    }
  }

  private check(artifactRoot: string): void {
    const f = this.roots.get(artifactRoot);
    if (!f) return;
    if (!f.watcher) f.watcher = this.watchFolder(artifactRoot);
    if (stampOf(manifestPath(artifactRoot)) !== f.stamp) this.schedule(artifactRoot);
  }

  private schedule(artifactRoot: string): void {
    const f = this.roots.get(artifactRoot);
    if (!f) return;
    if (f.debounce) clearTimeout(f.debounce);
    f.debounce = setTimeout(() => {
      f.debounce = null;
      if (this.roots.get(artifactRoot) === f) this.read(artifactRoot, f, true);
    }, this.options.debounceMs ?? 100);
    f.debounce.unref();
  }

  private read(artifactRoot: string, f: Followed, report: boolean): void {
    const path = manifestPath(artifactRoot);
    const stamp = stampOf(path);
    if (stamp === f.stamp) return;
    let manifest: TrainingManifest | null;
    try {
      manifest = readManifestFile(artifactRoot).manifest;
    } catch (e) {
      // a manifest mid-replace or damaged: try again at the next change or poll
      this.options.onError?.(artifactRoot, e);
      return;
    }
    f.stamp = stamp;
    if (!manifest) {
      f.jobs.clear();
      return;
    }
    const changed: ManifestJob[] = [];
    const next = new Map<string, string>();
    for (const j of manifest.jobs) {
      const key = entryKey(j);
      next.set(j.id, key);
      if (f.jobs.get(j.id) !== key) changed.push(j);
    }
    f.jobs = next;
    if (report && changed.length) this.options.onChange({ artifactRoot, manifest, changed });
  }
}
