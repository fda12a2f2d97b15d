/**
 * The live training_manifest.json: a searchable tree, the raw JSON, the skip summary and a
 * per-job drill-down (config, result, paths, hashes) for the job selected in the matrix.
 * It re-reads whenever a job changes state, so what it shows is what is on disk.
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import type { ManifestJob, SkipSummary, TrainingManifest } from '../../../shared/manifest';
import type { Json } from '../lib/json-tree';
import { searchJson } from '../lib/json-tree';
import { JsonTree } from './JsonTree';
import { TabBar } from './TabBar';

type Tab = 'tree' | 'job' | 'runs' | 'raw' | 'skip';

interface Props {
  manifest: TrainingManifest | null;
  manifestPath: string | null;
  skipSummary: SkipSummary | null;
  /** The job to drill into (the matrix's focused selection). */
  job: ManifestJob | null;
  error: string | null;
  onCopy(text: string, what: string): void;
}

export const ManifestInspector = memo(function ManifestInspector({
  manifest,
  manifestPath,
  skipSummary,
  job,
  error,
  onCopy,
}: Props) {
  const [tab, setTab] = useState<Tab>('tree');
  const [query, setQuery] = useState('');
  const shown: Json | null = useMemo(() => {
    if (tab === 'job') return (job as unknown as Json) ?? null;
    if (tab === 'skip') return (skipSummary as unknown as Json) ?? null;
    return (manifest as unknown as Json) ?? null;
  }, [tab, manifest, skipSummary, job]);
  const search = useMemo(() => searchJson(shown, query), [shown, query]);
  const raw = useMemo(() => (tab === 'raw' && manifest ? JSON.stringify(manifest, null, 2) : ''), [tab, manifest]);
  const body = useRef<HTMLDivElement>(null);
  // Bring the first search hit into view (the manifest is long; hits are deep inside jobs[]).
  useEffect(() => {
    if (search.matches.size === 0) return;
    body.current?.querySelector('.hit')?.scrollIntoView({ block: 'center' });
  }, [search]);

  const tabs: [Tab, string][] = [
    ['tree', 'Manifest'],
    ['job', 'Selected job'],
    ['runs', `Runs${manifest ? ` (${manifest.runs.length})` : ''}`],
    ['skip', 'skip_summary.json'],
    ['raw', 'Raw JSON'],
  ];

  return (
    <section className="inspector" aria-label="Manifest inspector">
      <TabBar<Tab> className="subtabs" label="Manifest views" tabs={tabs} selected={tab} onSelect={setTab} />
      <div className="path-line">
        {manifestPath && <code title={manifestPath}>{manifestPath}</code>}
        {manifestPath && (
          <button type="button" className="link" onClick={() => onCopy(manifestPath, 'manifest path')}>
            Copy path
          </button>
        )}
        <input
          type="search"
          placeholder="Search keys and values"
          aria-label="Search the manifest"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          disabled={tab === 'raw' || tab === 'runs'}
        />
        {query && (
          <span className="muted nowrap">
            {search.matches.size} match{search.matches.size === 1 ? '' : 'es'}
          </span>
        )}
      </div>
      {manifest && <Summary manifest={manifest} />}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="inspector-body" data-testid="manifest-view" ref={body}>
        {!manifest && !error && (
          <p className="muted">
            No training_manifest.json in this artifact root yet. Run (or dry-run) a job to create one.
          </p>
        )}
        {tab === 'raw' && manifest && <pre className="raw">{raw}</pre>}
        {tab === 'runs' && manifest && <RunsTable manifest={manifest} />}
        {tab !== 'raw' && tab !== 'runs' && shown !== null && (
          <JsonTree
            key={tab}
            value={shown}
            forceOpen={search.open}
            matches={search.matches}
            defaultDepth={tab === 'tree' ? 1 : 2}
            rootLabel={
              tab === 'skip' ? 'skip_summary.json' : tab === 'job' ? (job?.id ?? 'job') : 'training_manifest.json'
            }
            onCopy={onCopy}
          />
        )}
        {tab === 'job' && !job && (
          <p className="muted">Select one job in the matrix to see its config, result and files.</p>
        )}
        {tab === 'skip' && manifest && !skipSummary && <p className="muted">No skip_summary.json yet.</p>}
      </div>
    </section>
  );
});

/** Every invocation recorded under this artifact root, newest first. */
function RunsTable({ manifest }: { manifest: TrainingManifest }) {
  const runs = [...manifest.runs].reverse();
  if (runs.length === 0) return <p className="muted">No runs recorded yet.</p>;
  return (
    <table className="runs">
      <thead>
        <tr>
          <th scope="col">started</th>
          <th scope="col">from</th>
          <th scope="col">kind</th>
          <th scope="col">jobs</th>
          <th scope="col">status</th>
          <th scope="col">exit</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.run_id} title={r.run_id}>
            <td>{new Date(r.started_at).toLocaleString()}</td>
            <td>{r.source}</td>
            <td>{r.dry_run ? 'dry run' : 'training'}</td>
            <td title={r.job_ids.join(', ')}>{r.job_ids.length === 1 ? r.job_ids[0] : `${r.job_ids.length} jobs`}</td>
            <td>
              <span className={`badge badge-${r.status}`}>{r.status}</span>
            </td>
            <td>{r.exit_code ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One line on top: what the latest invocation was and where every job stands. */
function Summary({ manifest }: { manifest: TrainingManifest }) {
  const counts = new Map<string, number>();
  for (const j of manifest.jobs) counts.set(j.status, (counts.get(j.status) ?? 0) + 1);
  const byStatus = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return (
    <p className="manifest-summary">
      Latest run: <strong>{manifest.dry_run ? 'dry run — nothing trained' : 'training'}</strong> at{' '}
      {new Date(manifest.timestamp).toLocaleString()} · {manifest.jobs.length} job
      {manifest.jobs.length === 1 ? '' : 's'} recorded ({byStatus || 'none'}) · {manifest.runs.length} run
      {manifest.runs.length === 1 ? '' : 's'}
      {manifest.skipped_count > 0 ? ` · ${manifest.skipped_count} skipped view(s)` : ''}
    </p>
  );
}
