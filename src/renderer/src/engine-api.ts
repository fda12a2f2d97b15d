/**
 * Engine over WorkbenchApi: maps the renderer's roots/knobs to the contract's names and the
 * engine's job listing to matrix cells. The only module that knows the method names.
 */
import { describeFreshness } from '../../shared/fingerprint';
import type { JobListing } from '../../shared/study-api';
import { givenKnobs } from '../../shared/knobs';
import { reportUrl } from '../../shared/report-url';
import { call, onEvent, transportName } from './api-client';
import type { Engine } from './engine';
import type { JobCell } from './model';
import type { Knobs, Roots, SlurmOptions } from './stores/settings';
import { cellFromManifest } from './stores/study';

function rootsInput(r: Roots) {
  return { phaseCRoot: r.phaseC, phaseDRoot: r.phaseD, artifactRoot: r.artifact };
}

/** The knobs the Run panel gives (blanks and switches left off are not sent). */
function knobsInput(k: Knobs) {
  return givenKnobs(k);
}

/** The Slurm panel's fields as the API's options: blanks left out. */
export function slurmInput(o: SlurmOptions | undefined) {
  if (!o) return {};
  const text = (v: string) => (v.trim() ? v.trim() : undefined);
  return {
    partition: text(o.partition),
    time: text(o.time),
    gres: text(o.gres),
    mem: text(o.mem),
    account: text(o.account),
    cpusPerTask: o.cpusPerTask ?? undefined,
    maxParallel: o.maxParallel ?? undefined,
    extra: o.extra.trim() ? [o.extra.trim()] : undefined,
  };
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
  if (j.freshness) base.freshness = describeFreshness(j.freshness);
  if (j.stop) base.stop = j.stop.summary;
  if (j.resumable !== undefined) base.resumable = j.resumable;
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
    async runJobs(roots, ids, knobs, dryRun, options = {}) {
      const r = await call('runJobs', {
        roots: rootsInput(roots),
        jobIds: ids,
        dryRun,
        knobs: knobsInput(knobs),
        force: options.force ?? false,
        runOn: options.runOn ?? 'local',
        slurm: options.runOn === 'slurm' ? slurmInput(options.slurm) : {},
      });
      return { runId: r.runId, jobIds: r.jobIds, upToDate: r.upToDate ?? [], slurmJobId: r.slurmJobId ?? null };
    },
    async planJobs(roots, ids, knobs, force) {
      const r = await call('planJobs', { roots: rootsInput(roots), jobIds: ids, knobs: knobsInput(knobs), force });
      return r.jobs;
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
    async createDemoStudy(onProgress, preset) {
      const off = onEvent('demoProgress', (p) =>
        onProgress?.(p.message ?? `Phase ${p.phase}: ${p.stage}`, p.total > 0 ? p.done / p.total : null),
      );
      try {
        const r = await call('createDemoStudy', preset ? { preset } : {});
        return { phaseC: r.phaseCRoot, phaseD: r.phaseDRoot, artifact: r.artifactRoot };
      } finally {
        off();
      }
    },
    async resumeJobs(roots, ids) {
      const r = await call('resumeJobs', { roots: rootsInput(roots), jobIds: ids });
      return { runIds: r.runIds, jobIds: r.jobIds, notResumed: r.notResumed };
    },
    async readJobEventsFrom(roots, id, fromByte) {
      const r = await call('readJobEvents', { artifactRoot: roots.artifact, jobId: id, fromByte });
      return { events: r.events, nextByte: r.nextByte };
    },
    async listJobAttempts(roots, id) {
      return (await call('listJobAttempts', { artifactRoot: roots.artifact, jobId: id })).attempts;
    },
    async readAttemptEvents(roots, id, attemptId) {
      return (await call('readJobEvents', { artifactRoot: roots.artifact, jobId: id, attemptId })).events;
    },
    listJobPreviews: (roots, id) => call('listJobPreviews', { artifactRoot: roots.artifact, jobId: id }),
    readJobPreview: (roots, id, epoch) =>
      call('readJobPreview', { artifactRoot: roots.artifact, jobId: id, ...(epoch === undefined ? {} : { epoch }) }),
    getInfo: () => call('getInfo', {}),
    getComparison: (artifactRoot) => call('getComparison', { artifactRoot }),
    reportHref: (artifactRoot, reportHtml) =>
      transportName() === 'electron'
        ? `file://${reportHtml.startsWith('/') ? '' : '/'}${reportHtml.replace(/\\/g, '/')}`
        : reportUrl(artifactRoot).slice(1),
    evaluateStudy: (artifactRoot) => call('evaluateStudy', { artifactRoot }),
    buildReport: (artifactRoot) => call('buildReport', { artifactRoot }),
    getJobEvaluation: (artifactRoot, jobId) => call('getJobEvaluation', { artifactRoot, jobId }),
    async readReportImage(artifactRoot, name) {
      const img = await call('readReportImage', { artifactRoot, name });
      return `data:${img.mime};base64,${img.base64}`;
    },
    onEvalProgress: (h) => onEvent('evalProgress', h),
    onJobState: (h) => onEvent('jobState', h),
    onTrainEvents: (h) => onEvent('trainEvent', h),
    onRunState: (h) => onEvent('runState', h),
    async reconstructClassical(roots, input) {
      const r = await call('reconstructClassical', { ...rootsInput(roots), ...input });
      return { runId: r.runId, jobIds: r.jobIds };
    },
    async cancelClassical(artifactRoot, runId) {
      return (await call('cancelClassical', { artifactRoot, ...(runId === undefined ? {} : { runId }) })).cancelled;
    },
    getClassical: (artifactRoot) => call('getClassical', { artifactRoot }),
    listQueue: (artifactRoot) => call('listQueue', { artifactRoot }),
    onClassicalProgress: (h) => onEvent('classicalProgress', h),
  };
}
