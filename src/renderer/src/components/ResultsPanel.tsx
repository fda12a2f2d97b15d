/**
 * Phase G in the workbench: evaluate the trained jobs, see the dose × view heat map of any
 * metric, and for the selected job its reconstruction (amplitude, phase, error against the
 * ground truth) with its metrics. Everything is read from the artifact root's files through
 * the evaluation API; nothing is computed here.
 */
import { useCallback, useEffect, useState } from 'react';
import type { GetComparisonOutput, GetJobEvaluationOutput } from '../../../shared/eval-api';
import type { ChannelMetrics, ChannelSkill, FrcCrossing } from '../../../shared/evaluation';
import type { Engine } from '../engine';
import { errorText } from '../errors';
import { HeatMap } from './HeatMap';
import { ReconViewer } from './ReconViewer';

/** The evaluation part of the engine this panel reads through. */
export type ResultsEngine = Pick<
  Engine,
  | 'getComparison'
  | 'reportHref'
  | 'evaluateStudy'
  | 'buildReport'
  | 'getJobEvaluation'
  | 'readReportImage'
  | 'onEvalProgress'
>;

interface Props {
  engine: ResultsEngine;
  artifactRoot: string | null;
  /** The jobs selected in the matrix: one gets the full view, several a side-by-side comparison. */
  jobIds: string[];
  /** Changes when jobs settle, to re-read the comparison. */
  revision: string;
  onPickJob(jobId: string): void;
  onCopy(text: string, what: string): void;
}

export function ResultsPanel({ engine, artifactRoot, jobIds, revision, onPickJob, onCopy }: Props) {
  const [comparison, setComparison] = useState<GetComparisonOutput | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Bumped after an evaluation or report build, so the job view re-reads its files. */
  const [done, setDone] = useState(0);

  const load = useCallback(async () => {
    if (!artifactRoot) return;
    try {
      setComparison(await engine.getComparison(artifactRoot));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [artifactRoot, engine]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is a deliberate re-read trigger
  useEffect(() => {
    void load();
  }, [load, revision]);

  useEffect(
    () =>
      engine.onEvalProgress((p) => {
        if (p.artifactRoot === artifactRoot) setProgress(p.message);
      }),
    [artifactRoot, engine],
  );

  const act = async (what: 'evaluate' | 'report') => {
    if (!artifactRoot) return;
    setBusy(what === 'evaluate' ? 'Evaluating…' : 'Building the report…');
    setError(null);
    try {
      if (what === 'evaluate') await engine.evaluateStudy(artifactRoot);
      else await engine.buildReport(artifactRoot);
      await load();
      setDone((n) => n + 1);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
      setProgress(null);
    }
  };

  const c = comparison?.comparison ?? null;
  return (
    <section className="results" aria-label="Results">
      <div className="results-bar">
        <button type="button" onClick={() => void act('evaluate')} disabled={!artifactRoot || busy !== null}>
          Evaluate trained jobs
        </button>
        <button type="button" onClick={() => void act('report')} disabled={!c || busy !== null}>
          Build report
        </button>
        {busy && (
          <span role="status" className="muted">
            {busy} {progress}
          </span>
        )}
        {comparison?.reportHtml && artifactRoot && (
          <ReportLink
            path={comparison.reportHtml}
            href={engine.reportHref(artifactRoot, comparison.reportHtml)}
            onCopy={onCopy}
          />
        )}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!c && !error && (
        <p className="muted">
          No evaluation yet. Train jobs, then “Evaluate trained jobs” writes eval.json per job and comparison.json here.
        </p>
      )}
      <div className="results-body">
        {c && <HeatMap comparison={c} onPick={onPickJob} />}
        {jobIds.length === 1 && artifactRoot && (
          <JobResult engine={engine} artifactRoot={artifactRoot} jobId={jobIds[0]} revision={`${revision}|${done}`} />
        )}
        {jobIds.length > 1 && artifactRoot && (
          <section className="compare" aria-label={`Comparison of ${jobIds.length} jobs`}>
            <h3>
              {jobIds.length} jobs side by side <span className="muted">(select one for its full metrics)</span>
            </h3>
            <div className="compare-grid">
              {jobIds.map((id) => (
                <JobResult
                  key={id}
                  engine={engine}
                  artifactRoot={artifactRoot}
                  jobId={id}
                  revision={`${revision}|${done}`}
                  compact
                />
              ))}
            </div>
          </section>
        )}
        {jobIds.length === 0 && c && (
          <p className="muted">Select a job (or several, to compare them) to see its reconstruction.</p>
        )}
      </div>
    </section>
  );
}

/**
 * The report's path, and a link that opens it in a new tab (browser mode: served by the local
 * server; desktop: the file opens in the system's browser).
 */
function ReportLink({ path, href, onCopy }: { path: string; href: string; onCopy(text: string, what: string): void }) {
  return (
    <span className="report-link">
      <a href={href} target="_blank" rel="noreferrer" title={path}>
        Open report
      </a>{' '}
      <code className="muted">{path}</code>{' '}
      <button type="button" className="link" onClick={() => onCopy(path, 'report path')}>
        Copy path
      </button>
    </span>
  );
}

function JobResult({
  engine,
  artifactRoot,
  jobId,
  revision,
  compact = false,
}: {
  engine: ResultsEngine;
  artifactRoot: string;
  jobId: string;
  revision: string;
  compact?: boolean;
}) {
  const [ev, setEv] = useState<GetJobEvaluationOutput | null>(null);
  const [images, setImages] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [enlarged, setEnlarged] = useState<string | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is a deliberate re-read trigger
  useEffect(() => {
    let stop = false;
    void (async () => {
      try {
        const r = await engine.getJobEvaluation(artifactRoot, jobId);
        if (stop) return;
        setEv(r);
        setError(null);
        const pics: Record<string, string> = {};
        if (r.images)
          for (const [k, name] of Object.entries(r.images)) pics[k] = await engine.readReportImage(artifactRoot, name);
        if (!stop) setImages(pics);
      } catch (e) {
        if (!stop) setError(errorText(e));
      }
    })();
    return () => {
      stop = true;
    };
  }, [artifactRoot, jobId, revision, engine]);

  if (error) return <p className="error">{error}</p>;
  if (!ev) return null;
  if (!ev.eval)
    return (
      <p className="muted">
        {jobId}: {ev.state.replace('_', ' ')}
        {ev.reason ? ` — ${ev.reason}` : ''}
      </p>
    );
  const m = ev.eval.metrics;
  const kinds = (['amplitude', 'phase', 'error'] as const).filter((k) => images[k]);
  return (
    <section className="job-result" aria-label={`Reconstruction of ${jobId}`}>
      <h3>
        {jobId} <span className="muted">vs ground truth</span>
      </h3>
      {kinds.length > 0 ? (
        <div className="recon-images">
          {kinds.map((k) => (
            <figure key={k}>
              <button
                type="button"
                className="recon-thumb"
                onClick={() => setEnlarged(k)}
                title="Enlarge: full resolution, amplitude / phase / error with synchronized zoom"
              >
                <img src={images[k]} alt={`${k} of ${jobId} beside the ground truth`} />
              </button>
              <figcaption>{k}</figcaption>
            </figure>
          ))}
        </div>
      ) : (
        <p className="muted">Build the report to see the reconstruction images.</p>
      )}
      {enlarged && (
        <ReconViewer
          title={`${jobId} beside the ground truth`}
          images={kinds.map((k) => ({ key: k, src: images[k] }))}
          initial={enlarged}
          onClose={() => setEnlarged(null)}
        />
      )}
      {compact ? (
        <p className="muted">
          phase MAE {f(m.phase.mae)} · amplitude MAE {f(m.amplitude.mae)}
          {ev.eval.skill ? ` · phase skill ${f(ev.eval.skill.phase.mae)}` : ''}
        </p>
      ) : (
        <JobMetrics ev={ev} />
      )}
    </section>
  );
}

function JobMetrics({ ev }: { ev: GetJobEvaluationOutput }) {
  if (!ev.eval) return null;
  const m = ev.eval.metrics;
  return (
    <>
      <table className="metrics">
        <thead>
          <tr>
            <th />
            <th scope="col">MS-SSIM</th>
            <th scope="col">SSIM</th>
            <th scope="col">MAE</th>
            <th scope="col">PSNR (dB)</th>
            <th scope="col">FRC 0.5 period (px)</th>
          </tr>
        </thead>
        <tbody>
          <MetricRow name="phase" m={m.phase} />
          <MetricRow name="amplitude" m={m.amplitude} />
          {ev.eval.reference && (
            <>
              <MetricRow name="constant guess: phase" m={ev.eval.reference.baseline.phase} muted />
              <MetricRow name="constant guess: amplitude" m={ev.eval.reference.baseline.amplitude} muted />
            </>
          )}
          {ev.eval.skill && (
            <>
              <SkillRow name="phase skill" k={ev.eval.skill.phase} />
              <SkillRow name="amplitude skill" k={ev.eval.skill.amplitude} />
            </>
          )}
        </tbody>
      </table>
      {ev.eval.not_converged && (
        <p className="error">Not converged: {ev.eval.not_converged_reason ?? 'MAE skill ≤ 0.05'}.</p>
      )}
      {ev.eval.alignment.registration_at_cap && (
        <p className="error">
          Registration reached its cap ({ev.eval.alignment.max_registration_shift_px} px): the alignment is suspect.
        </p>
      )}
      <p className="muted">
        coverage {(ev.eval.alignment.coverage * 100).toFixed(0)}% · {ev.eval.n_patches} patches · registration{' '}
        {ev.eval.alignment.registration_shift
          ? `${ev.eval.alignment.registration_shift.dy.toFixed(2)}, ${ev.eval.alignment.registration_shift.dx.toFixed(2)} px`
          : 'off'}
      </p>
    </>
  );
}

const f = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toPrecision(4));

function frcText(c: FrcCrossing) {
  if (c.ring !== null && c.ring <= 1) return 'below 0.5 from the first ring';
  return `${c.reaches_nyquist ? '≤ ' : ''}${c.period_px.toFixed(2)}`;
}

function MetricRow({ name, m, muted }: { name: string; m: ChannelMetrics; muted?: boolean }) {
  const frc = m.frc?.crossings.find((c) => Math.abs(c.threshold - 0.5) < 1e-9);
  return (
    <tr className={muted ? 'muted' : undefined}>
      <th scope="row">{name}</th>
      <td>{f(m.ms_ssim)}</td>
      <td>{f(m.ssim)}</td>
      <td>{f(m.mae)}</td>
      <td>{f(m.psnr)}</td>
      <td>{frc ? frcText(frc) : '—'}</td>
    </tr>
  );
}

/** Skill per metric: 0 = no better than a constant image, 1 = perfect (PSNR's is MSE's). */
function SkillRow({ name, k }: { name: string; k: ChannelSkill }) {
  return (
    <tr>
      <th scope="row" title="(constant guess − model) / (constant guess − perfect)">
        {name}
      </th>
      <td>{f(k.ms_ssim)}</td>
      <td>{f(k.ssim)}</td>
      <td>{f(k.mae)}</td>
      <td>{f(k.mse)} (MSE)</td>
      <td>{f(k.frc50_period_px)}</td>
    </tr>
  );
}
