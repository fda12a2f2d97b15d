/**
 * The study as the UI sees it: roots, the job matrix (data status merged with the
 * manifest's latest state and live progress), the manifest itself, the selection and the
 * filter chips. All engine access goes through ./engine (which wraps api-client).
 */
import { create } from 'zustand';
import type { WorkbenchInfo } from '../../../shared/api';
import type { JobProgress, ManifestJob, SkipSummary, TrainingManifest } from '../../../shared/manifest';
import { jobStopOf } from '../../../shared/job-stop';
import type { JobStateEvent } from '../../../shared/study-api';
import { emptySelection, pruneSelection, type Selection } from '../lib/selection';
import { type JobCell, jobCell, nextEtaAt } from '../model';
import type { Roots } from './settings';

export interface Filters {
  dose: number | null;
  view: 'baseline' | 'dense' | 'sparse' | null;
  gridsize: 1 | 2 | null;
}

export const NO_FILTERS: Filters = { dose: null, view: null, gridsize: null };

export function matchesFilters(c: Pick<JobCell, 'dose' | 'view' | 'gridsize'>, f: Filters): boolean {
  return (
    (f.dose === null || c.dose === f.dose) &&
    (f.view === null || c.view === f.view) &&
    (f.gridsize === null || c.gridsize === f.gridsize)
  );
}

export interface StudyState {
  info: WorkbenchInfo | null;
  infoError: string | null;
  roots: Roots | null;
  rootsError: string | null;
  loading: boolean;
  doses: number[];
  cells: Map<string, JobCell>;
  manifest: TrainingManifest | null;
  manifestPath: string | null;
  manifestError: string | null;
  skipSummary: SkipSummary | null;
  selection: Selection;
  filters: Filters;
  /** Ids run from this window, most recent first (the queue's order). */
  queueOrder: string[];
  runError: string | null;
  notice: string | null;
  /** The live event stream dropped (browser mode: the server stopped or restarted). */
  disconnected: boolean;
  demo: { running: boolean; message: string | null; fraction: number | null };

  patch(p: Partial<StudyState>): void;
  setJobs(doses: number[], cells: JobCell[]): void;
  setManifest(m: TrainingManifest | null, path: string | null, skip: SkipSummary | null): void;
  /** A live job-state change from the engine. */
  applyJobState(ev: JobStateEvent): void;
  /** Live progress of several running jobs, applied as one update. */
  applyProgress(updates: Map<string, JobProgress>): void;
  select(sel: Selection): void;
  setFilters(f: Filters): void;
  enqueue(ids: string[]): void;
}

/** Manifest entry → the fields of a cell it decides. */
export function cellFromManifest(base: JobCell, j: ManifestJob): JobCell {
  const r = j.result;
  const stop = jobStopOf(j);
  const reason =
    j.status === 'skipped'
      ? j.skip_reason
      : j.status === 'failed' || j.status === 'diverged' || j.status === 'interrupted' || j.status === 'cancelled'
        ? (r?.error ?? j.skip_reason ?? null)
        : null;
  return {
    ...base,
    state: j.status,
    reason,
    missingFiles: j.missing_files.length ? j.missing_files : base.missingFiles,
    finalLoss: r?.final_loss ?? null,
    dryRun: j.dry_run,
    progress: j.progress ?? base.progress,
    etaAt: j.status === 'running' ? nextEtaAt(base.progress, j.progress ?? base.progress, base.etaAt) : null,
    artifactDir: j.artifact_dir,
    logPath: j.log_path,
    stop: stop?.summary ?? null,
    // whether the checkpoint is on disk only the engine's listing knows; a job that is not stopped cannot resume
    resumable: stop ? (base.resumable ?? !!stop.checkpointPath) : false,
    slurm: j.slurm
      ? `Slurm ${j.slurm.job_id}${j.slurm.array_task_id !== null ? `_${j.slurm.array_task_id}` : ''}${j.slurm.state ? ` ${j.slurm.state}` : ''}${j.slurm.reason ? ` (${j.slurm.reason})` : ''}`
      : null,
  };
}

export const useStudy = create<StudyState>((set, get) => ({
  info: null,
  infoError: null,
  roots: null,
  rootsError: null,
  loading: false,
  doses: [],
  cells: new Map(),
  manifest: null,
  manifestPath: null,
  manifestError: null,
  skipSummary: null,
  selection: emptySelection,
  filters: NO_FILTERS,
  queueOrder: [],
  runError: null,
  notice: null,
  disconnected: false,
  demo: { running: false, message: null, fraction: null },

  patch(p) {
    set(p);
  },
  setJobs(doses, list) {
    const cells = new Map(list.map((c) => [c.id, c]));
    const m = get().manifest;
    if (m) for (const j of m.jobs) mergeManifestJob(cells, j);
    set({ doses, cells, selection: pruneSelection(get().selection, new Set(cells.keys())) });
  },
  setManifest(manifest, manifestPath, skipSummary) {
    const cells = new Map(get().cells);
    if (manifest) for (const j of manifest.jobs) mergeManifestJob(cells, j);
    set({ manifest, manifestPath, skipSummary, cells, manifestError: null });
  },
  applyJobState(ev) {
    const c = get().cells.get(ev.jobId);
    if (!c) return;
    const cells = new Map(get().cells);
    // A change another process made (a CLI run, another window): the manifest entry says it all.
    if (ev.source === 'manifest' && ev.entry) {
      mergeManifestJob(cells, ev.entry);
      const merged = cells.get(ev.jobId) as JobCell;
      if (ev.resumable !== undefined) cells.set(ev.jobId, { ...merged, resumable: ev.resumable });
      set({ cells });
      return;
    }
    const settled = ev.status !== 'queued' && ev.status !== 'running';
    const progress = ev.status === 'queued' ? null : (ev.progress ?? c.progress);
    cells.set(ev.jobId, {
      ...c,
      state: ev.status,
      progress,
      etaAt: settled ? null : nextEtaAt(c.progress, progress, c.etaAt),
      finalLoss: ev.finalLoss ?? (ev.status === 'done' ? c.finalLoss : null),
      reason: ev.error ?? ev.skipReason ?? (settled ? c.reason : null),
      dryRun: ev.status === 'planned',
      stop: ev.stop !== undefined ? (ev.stop?.summary ?? null) : settled ? c.stop : null,
      resumable: ev.resumable ?? (settled ? c.resumable : false),
    });
    set({ cells });
  },
  applyProgress(updates) {
    if (updates.size === 0) return;
    const cells = new Map(get().cells);
    for (const [id, progress] of updates) {
      const c = cells.get(id);
      if (c) cells.set(id, { ...c, progress, etaAt: nextEtaAt(c.progress, progress, c.etaAt) });
    }
    set({ cells });
  },
  select(selection) {
    set({ selection });
  },
  setFilters(filters) {
    const { cells, selection } = get();
    const keep = new Set([...cells.values()].filter((c) => matchesFilters(c, filters)).map((c) => c.id));
    set({ filters, selection: pruneSelection(selection, keep) });
  },
  enqueue(ids) {
    const rest = get().queueOrder.filter((id) => !ids.includes(id));
    set({ queueOrder: [...ids, ...rest] });
  },
}));

function mergeManifestJob(cells: Map<string, JobCell>, j: ManifestJob): void {
  const live = cells.get(j.id);
  // The manifest is written less often than events arrive: never step a live cell backwards.
  if (live && live.state === 'running' && j.status === 'running') {
    const ahead = (live.progress?.step ?? -1) >= (j.progress?.step ?? -1);
    cells.set(j.id, { ...cellFromManifest(live, j), progress: ahead ? live.progress : j.progress });
    return;
  }
  const base: JobCell =
    live ??
    jobCell({
      id: j.id,
      dose: j.dose,
      view: j.view,
      gridsize: j.gridsize,
      artifactDir: j.artifact_dir,
      logPath: j.log_path,
    });
  // Data that went missing since the run wins over an old "planned"/"done" for what can run now.
  if (base.state === 'missing' && (j.status === 'planned' || j.status === 'skipped')) {
    cells.set(j.id, { ...base, artifactDir: j.artifact_dir, logPath: j.log_path });
    return;
  }
  cells.set(j.id, cellFromManifest(base, j));
}
