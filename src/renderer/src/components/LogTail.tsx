/**
 * The tail of one job's train.log, refreshed while the job is live (and once when it
 * settles). Follows the end unless the user scrolled up to read.
 */
import { useEffect, useRef, useState } from 'react';

interface Props {
  jobId: string | null;
  jobName: string;
  live: boolean;
  /** Bumps when the job's state changes, to re-read once after it settles. */
  revision: string;
  read(jobId: string): Promise<{ text: string; path: string | null; truncated: boolean }>;
  onCopy(text: string, what: string): void;
}

export function LogTail({ jobId, jobName, live, revision, read, onCopy }: Props) {
  const [text, setText] = useState('');
  const [path, setPath] = useState<string | null>(null);
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is a deliberate re-read trigger
  useEffect(() => {
    if (!jobId) return;
    let stop = false;
    const load = async () => {
      try {
        const r = await read(jobId);
        if (stop) return;
        setText(r.text);
        setPath(r.path);
        setTruncated(r.truncated);
        setError(null);
      } catch (e) {
        if (!stop) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void load();
    const timer = live ? setInterval(load, 1000) : null;
    return () => {
      stop = true;
      if (timer) clearInterval(timer);
    };
  }, [jobId, live, read, revision]);

  useEffect(() => {
    const el = pre.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });

  if (!jobId) return <p className="muted">Select one job in the matrix to follow its train.log.</p>;
  return (
    <section className="logtail" aria-label={`Log of ${jobName}`}>
      <div className="path-line">
        <strong>{jobName}</strong>
        {path && <code title={path}>{path}</code>}
        {path && (
          <button type="button" className="link" onClick={() => onCopy(path, 'log path')}>
            Copy path
          </button>
        )}
        {live && <span className="badge badge-running">following</span>}
      </div>
      {error && <p className="error">{error}</p>}
      {truncated && <p className="muted">Showing the end of the log only.</p>}
      <pre
        ref={pre}
        className="raw log"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable log must be reachable by keyboard to scroll it
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {text || '(empty log)'}
      </pre>
    </section>
  );
}
