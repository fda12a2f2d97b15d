/**
 * Engine over WorkbenchApi: maps the renderer's roots/knobs to the contract's names and the
 * engine's job listing to matrix cells. The only module that knows the method names.
 */
import type { JobListing } from '../../shared/study-api';
import type { TrainingKnobs } from '../../shared/study';
import { call, onEvent } from './api-client';
import type { Engine } from './engine';
import type { JobCell } from './model';
import type { Knobs, Roots } from './stores/settings';
import { cellFromManifest } from './stores/study';

function rootsInput(r: Roots) {
  return { phaseCRoot: r.phaseC, phaseDRoot: r.phaseD, artifactRoot: r.artifact };
}

function knobsInput(k: Knobs): TrainingKnobs {
  const out: TrainingKnobs = { accelerator: k.accelerator };
  if (k.max_epochs !== null) out.max_epochs = k.max_epochs;
  if (k.n_groups !== null) out.n_groups = k.n_groups;
  if (k.batch_size !== null) out.batch_size = k.batch_size;
  if (k.seed !== null) out.seed = k.seed;
  if (k.deterministic) out.deterministic = true;
  return out;
}

export function cellFromListing(j: JobListing): JobCell {
  const base: JobCell = {
    id: j.id,
    dose: j.dose,
    view: j.view,
    gridsize: j.gridsize,
    state: j.data.status,
    reason: j.data.status === 'missing' ? `missing ${j.data.missingFiles.join(', ')}` : null,
    missingFiles: j.data.missingFiles,
    finalLoss: null,
    dryRun: false,
    progress: null,
    etaAt: null,
    artifactDir: j.artifactDir,
    logPath: j.logPath,
  };
  if (!j.state) return base;
  // Data gone since a dry run or skip: what matters now is that it cannot run.
  if (j.data.status === 'missing' && !j.active && (j.state.status === 'planned' || j.state.status === 'skipped'))
    return base;
  return cellFromManifest(base, j.state);
}

export function createEngine(): Engine {
  return {
    async defaultRoots() {
      const r = await call('getStudyRoots', {});
      return { phaseC: r.phaseCRoot, phaseD: r.phaseDRoot, artifact: r.artifactRoot };
    },
    async listJobs(roots) {
      const r = await call('listJobs', rootsInput(roots));
      return {
        roots: { phaseC: r.roots.phaseCRoot, phaseD: r.roots.phaseDRoot, artifact: r.roots.artifactRoot },
        doses: r.doses,
        jobs: r.jobs.map(cellFromListing),
        manifestPath: r.manifestPath,
      };
    },
    async readManifest(roots) {
      const r = await call('readManifest', { artifactRoot: roots.artifact });
      return { manifest: r.manifest, path: r.path, skipSummary: r.skipSummary, raw: r.raw };
    },
    async runJobs(roots, ids, knobs, dryRun) {
      const r = await call('runJobs', { roots: rootsInput(roots), jobIds: ids, dryRun, knobs: knobsInput(knobs) });
      return { runId: r.runId };
    },
    async cancelJobs(ids) {
      const r = await call('cancelJobs', ids === 'all' ? { all: true } : { jobIds: ids });
      return r.cancelled;
    },
    async readJobEvents(roots, id) {
      const r = await call('readJobEvents', { artifactRoot: roots.artifact, jobId: id });
      return { events: r.events, skippedLines: r.skippedLines };
    },
    async readJobLog(roots, id) {
      const r = await call('readJobLog', { artifactRoot: roots.artifact, jobId: id });
      return { text: r.text, path: r.path, truncated: r.truncated };
    },
    async createDemoStudy(onProgress) {
      const off = onEvent('demoProgress', (p) =>
        onProgress?.(p.message ?? `Phase ${p.phase}: ${p.stage}`, p.total > 0 ? p.done / p.total : null),
      );
      try {
        const r = await call('createDemoStudy', {});
        return { phaseC: r.phaseCRoot, phaseD: r.phaseDRoot, artifact: r.artifactRoot };
      } finally {
        off();
      }
    },
    onJobState: (h) => onEvent('jobState', h),
    onTrainEvents: (h) => onEvent('trainEvent', h),
    onRunState: (h) => onEvent('runState', h),
  };
}
