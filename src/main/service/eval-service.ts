/**
 * The evaluation half of WorkbenchService (Phase G): evaluate an artifact root through each
 * job's model.onnx, build the offline report, and serve what the UI shows. Evaluations and
 * report builds of this process run one at a time (inference is CPU-heavy and writes the
 * same files); progress lines go to every front end as `evalProgress` events.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EventName, EventPayload } from '../../shared/api';
import { StudyError } from '../../shared/errors';
import type {
  BuildReportOutput,
  EvaluateStudyInput,
  EvaluateStudyOutput,
  GetComparisonOutput,
  GetJobEvaluationOutput,
  ReadReportImageOutput,
} from '../../shared/eval-api';
import { COMPARISON_METRICS, REPORT_DIR, REPORT_HTML } from '../../shared/evaluation';
import { readManifestFile } from '../study/manifest-store';
import { evalPathOf, type Reconstructor } from '../eval/job-eval';
import { buildReport } from '../eval/report/build';
import {
  collectComparison,
  evaluateStudy,
  missingReason,
  type PathCheck,
  readEvalFile,
  studyJobs,
} from '../eval/study-eval';

export interface EvalServiceOptions {
  emit: <E extends EventName>(event: E, payload: EventPayload<E>) => void;
  /** Resolves (and in browser mode confines) a user-typed artifact root; undefined = the default. */
  resolveArtifactRoot: (input: string | undefined) => string;
  /**
   * Throws when a path read from disk (a manifest's job folders, a report image) may not be
   * followed: in browser mode, one that leads outside the workspace, also through a link.
   */
  confinePath?: PathCheck;
  /** Inference; default each job's own model.onnx. Tests inject their own. */
  reconstructor?: Reconstructor | 'model';
}

export class EvalService {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EvalServiceOptions) {}

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private progress(artifactRoot: string, phase: 'evaluate' | 'report', message: string): void {
    this.options.emit('evalProgress', { artifactRoot, phase, message, time: new Date().toISOString() });
  }

  evaluateStudy(input: EvaluateStudyInput & { onProgress?: (m: string) => void }): Promise<EvaluateStudyOutput> {
    const root = this.options.resolveArtifactRoot(input.artifactRoot);
    return this.serial(async () => {
      const r = await evaluateStudy({
        artifactRoot: root,
        reconstructor: this.options.reconstructor ?? 'model',
        inference: { accelerator: input.accelerator ?? 'cpu' },
        jobIds: input.jobIds,
        force: input.force,
        confine: this.options.confinePath,
        onProgress: (m) => {
          input.onProgress?.(m);
          this.progress(root, 'evaluate', m);
        },
      });
      return {
        artifactRoot: root,
        comparisonJson: r.files.json,
        comparisonCsv: r.files.csv,
        evaluated: r.evaluated,
        upToDate: r.upToDate,
        missing: r.missing,
        comparison: r.comparison,
      };
    });
  }

  buildReport(input: {
    artifactRoot?: string;
    force?: boolean;
    onProgress?: (m: string) => void;
  }): Promise<BuildReportOutput> {
    const root = this.options.resolveArtifactRoot(input.artifactRoot);
    return this.serial(async () => {
      const r = await buildReport({
        artifactRoot: root,
        confine: this.options.confinePath,
        force: input.force,
        onProgress: (m) => {
          input.onProgress?.(m);
          this.progress(root, 'report', m);
        },
      });
      return { reportDir: r.reportDir, htmlPath: r.htmlPath, files: r.files, upToDate: r.upToDate ?? false };
    });
  }

  async getComparison(input: { artifactRoot?: string }): Promise<GetComparisonOutput> {
    const root = this.options.resolveArtifactRoot(input.artifactRoot);
    const { manifest } = readManifestFile(root);
    const dir = join(root, REPORT_DIR);
    const heatmaps: Record<string, string> = {};
    for (const m of COMPARISON_METRICS) {
      const name = `heatmap_${m.key}.png`;
      if (existsSync(join(dir, name))) heatmaps[m.key] = name;
    }
    const html = join(dir, REPORT_HTML);
    return {
      artifactRoot: root,
      hasManifest: manifest !== null,
      comparison: manifest ? collectComparison(root, manifest, new Date(), this.options.confinePath) : null,
      reportHtml: existsSync(html) ? html : null,
      heatmaps,
    };
  }

  async getJobEvaluation(input: { artifactRoot?: string; jobId: string }): Promise<GetJobEvaluationOutput> {
    const root = this.options.resolveArtifactRoot(input.artifactRoot);
    const { manifest } = readManifestFile(root);
    const ref = manifest
      ? studyJobs(manifest, this.options.confinePath).find((r) => r.row.id === input.jobId)
      : undefined;
    if (!ref) {
      return {
        jobId: input.jobId,
        state: 'not_run',
        reason: manifest ? 'not a job of this study design' : 'no training manifest in this artifact root',
        eval: null,
        images: null,
      };
    }
    const why = missingReason(ref);
    if (why || !ref.entry) {
      return {
        jobId: input.jobId,
        state: why?.state ?? 'not_run',
        reason: why?.reason ?? null,
        eval: null,
        images: null,
      };
    }
    const e = readEvalFile(evalPathOf({ artifactDir: ref.entry.artifact_dir }));
    const names = {
      amplitude: `${input.jobId}_amplitude.png`,
      phase: `${input.jobId}_phase.png`,
      error: `${input.jobId}_error.png`,
    };
    const dir = join(root, REPORT_DIR);
    const haveImages = Object.values(names).every((n) => existsSync(join(dir, n)));
    return {
      jobId: input.jobId,
      state: e ? 'evaluated' : 'eval_failed',
      reason: e ? null : 'not evaluated yet',
      eval: e,
      images: e && haveImages ? names : null,
    };
  }

  async readReportImage(input: { artifactRoot?: string; name: string }): Promise<ReadReportImageOutput> {
    if (!input.name.endsWith('.png')) {
      throw new StudyError('BAD_INPUT', 'a report image is named by its plain file name', {
        key: 'name',
        found: input.name,
      });
    }
    const real = this.reportFile(input.artifactRoot, input.name);
    return { name: input.name, mime: 'image/png', base64: readFileSync(real).toString('base64') };
  }

  /**
   * The real path of one file of an artifact root's report (report.html, its images and
   * tables), for the local server to serve. Only plain file names in the report folder, only
   * regular files, and in browser mode only inside the workspace.
   */
  reportFile(artifactRoot: string | undefined, name: string): string {
    const root = this.options.resolveArtifactRoot(artifactRoot);
    if (!REPORT_FILE_NAME.test(name) || name.startsWith('.')) {
      throw new StudyError(
        'BAD_INPUT',
        'a report file is named by its plain file name (.html, .png, .svg, .csv or .json)',
        {
          key: 'name',
          found: name,
        },
      );
    }
    const path = join(root, REPORT_DIR, name);
    if (!existsSync(path)) {
      throw new StudyError('NOT_FOUND', `no report file ${name}`, {
        file: path,
        hint: 'build the report first (ptycho-study report)',
      });
    }
    // A link in the report folder is followed only where the browser may go (inside the workspace).
    this.options.confinePath?.(path);
    const real = realpathSync(path);
    if (!statSync(real).isFile()) {
      throw new StudyError('BAD_INPUT', `report file ${name} is not a regular file`, { file: path });
    }
    return real;
  }
}

const REPORT_FILE_NAME = /^[A-Za-z0-9_.-]+\.(html|png|svg|csv|json)$/;
