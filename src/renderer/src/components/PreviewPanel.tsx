/**
 * Pictures while training: after every epoch the trainer writes a small amplitude/phase
 * preview of one fixed validation group (beside its ground truth). This panel lists a job's
 * previews, follows new ones live (the `preview` events in the CurveStore) and lets the
 * epoch slider go back through them. Images are read through the engine and cached per epoch.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ListJobPreviewsOutput } from '../../../shared/study-api';
import { errorText } from '../errors';
import type { CurveStore } from '../stores/curves';
import { ReconViewer } from './ReconViewer';

interface Props {
  store: CurveStore;
  jobId: string | null;
  jobName: string;
  list(jobId: string): Promise<ListJobPreviewsOutput>;
  /** A preview as a `data:` URL. */
  read(jobId: string, epoch: number): Promise<string>;
}

export function PreviewPanel({ store, jobId, jobName, list, read }: Props) {
  const [listed, setListed] = useState<{ epochs: number[]; panels: string[] }>({ epochs: [], panels: [] });
  const [chosen, setChosen] = useState<number | null>(null);
  // the picture on screen and the epoch it is of: the next one loads while this one still shows
  const [shownPicture, setSrc] = useState<{ url: string; epoch: number } | null>(null);
  const src = shownPicture?.url ?? null;
  const [error, setError] = useState<string | null>(null);
  const [enlarged, setEnlarged] = useState(false);
  const cache = useRef(new Map<string, string>());

  // epochs announced live by preview events (a string so React sees a change only when one is added)
  const liveKey = useSyncExternalStore(
    (cb) => store.subscribe(cb),
    () =>
      jobId
        ? (store
            .get(jobId)
            ?.previews.map((p) => p.epoch)
            .join(',') ?? '')
        : '',
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: liveKey is a re-list trigger (a new preview)
  useEffect(() => {
    if (!jobId) {
      setListed({ epochs: [], panels: [] });
      return;
    }
    let live = true;
    void list(jobId)
      .then((r) => {
        if (!live) return;
        setListed({ epochs: r.previews.map((p) => p.epoch), panels: r.panels });
        setError(null);
      })
      .catch((e) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [jobId, list, liveKey]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: another job starts following its latest preview
  useEffect(() => {
    setChosen(null);
  }, [jobId]);

  const liveEpochs = liveKey ? liveKey.split(',').map(Number) : [];
  const epochs = [...new Set([...listed.epochs, ...liveEpochs])].sort((a, b) => a - b);
  const latest = epochs.at(-1) ?? null;
  // null = follow the latest preview as new ones arrive
  const shown = chosen !== null && epochs.includes(chosen) ? chosen : latest;

  useEffect(() => {
    if (!jobId || shown === null) {
      setSrc(null);
      return;
    }
    const key = `${jobId}|${shown}`;
    const hit = cache.current.get(key);
    if (hit) {
      setSrc({ url: hit, epoch: shown });
      return;
    }
    let live = true;
    void read(jobId, shown)
      .then((url) => {
        cache.current.set(key, url);
        if (live) setSrc({ url, epoch: shown });
      })
      .catch((e) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [jobId, shown, read]);

  return (
    <aside className="previews" aria-label="Reconstruction previews">
      <h3>Previews</h3>
      {!jobId && <p className="muted">Select one job to see its reconstruction after each epoch.</p>}
      {jobId && epochs.length === 0 && !error && (
        <p className="muted">{jobName}: no preview yet (one is written after each epoch).</p>
      )}
      {error && <p className="error">{error}</p>}
      {jobId && shown !== null && (
        <>
          <label className="preview-slider">
            <span>
              Epoch <output data-testid="preview-epoch">{shown + 1}</output> of {(latest ?? 0) + 1}
            </span>
            <input
              type="range"
              min={0}
              max={Math.max(0, epochs.length - 1)}
              step={1}
              value={Math.max(0, epochs.indexOf(shown))}
              aria-label="Preview epoch"
              aria-valuetext={`epoch ${shown + 1}`}
              onChange={(e) => {
                const i = Number(e.target.value);
                setChosen(i === epochs.length - 1 ? null : epochs[i]);
              }}
            />
          </label>
          {chosen === null && <span className="muted small-note">following the latest epoch</span>}
          {src && (
            <figure>
              <button type="button" className="recon-thumb" title="Enlarge" onClick={() => setEnlarged(true)}>
                <img
                  src={src}
                  alt={`preview of ${jobName} after epoch ${(shownPicture?.epoch ?? shown) + 1}`}
                  data-epoch={shownPicture?.epoch ?? shown}
                />
              </button>
              {listed.panels.length > 0 && <figcaption>{listed.panels.join(' · ')}</figcaption>}
            </figure>
          )}
          {src && enlarged && (
            <ReconViewer
              title={`${jobName} after epoch ${shown + 1} (${listed.panels.join(' · ') || 'preview'})`}
              images={[{ key: 'preview', src }]}
              initial="preview"
              onClose={() => setEnlarged(false)}
            />
          )}
        </>
      )}
    </aside>
  );
}
