/**
 * The open study's classical jobs and the one run queue, kept current for the Classical row
 * and the run queue panel: the jobs are read from `getClassical` when the study opens and
 * folded forward with `classicalProgress` events (re-read when a job ends, for its scores);
 * the queue's order is re-read whenever a job of either kind is queued, starts or ends.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { QueuedRunView } from '../../../shared/queue-api';
import type { Controller } from '../controller';
import { errorText } from '../errors';
import { type ClassicalCell, type ClassicalCells, cellsFromListing, foldClassical } from '../lib/classical';

export interface ClassicalFeed {
  cells: ClassicalCells;
  /** The study's runs in the one run queue, in the order they run. */
  queue: QueuedRunView[];
  /** The classical jobs a run of this session queued or ran, the latest run's first. */
  session: ClassicalCell[];
  /** Why the jobs could not be read, if they could not. */
  error: string | null;
}

/**
 * `trainingKey` changes whenever a training job of the study is queued, starts or ends, so the
 * queue is re-read then too.
 */
export function useClassicalFeed(
  api: Controller['classical'],
  artifactRoot: string | null,
  trainingKey: string,
): ClassicalFeed {
  const [cells, setCells] = useState<ClassicalCells>(new Map());
  const [queue, setQueue] = useState<QueuedRunView[]>([]);
  const [runOrder, setRunOrder] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);

  /** Progress events seen; a listing requested before the latest event is older than it. */
  const eventCount = useRef(0);
  const load = useCallback(async () => {
    const seen = eventCount.current;
    try {
      const g = await api.list();
      if (!g || eventCount.current !== seen) return; // events overtook this listing; the run's end reloads
      // the listing knows only the running job's run; the runs this session saw are kept
      setCells((prev) => {
        const next = cellsFromListing(g);
        for (const [id, c] of next) {
          const runId = prev.get(id)?.runId;
          if (c.runId === null && runId) next.set(id, { ...c, runId });
        }
        return next;
      });
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [api]);

  /** Queue reads answered out of order: only the latest one counts. */
  const queueAsked = useRef(0);
  const queueTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const loadQueue = useCallback(() => {
    if (queueTimer.current) return;
    // a burst of state changes (nine jobs queued at once) is one read
    queueTimer.current = setTimeout(() => {
      queueTimer.current = null;
      const asked = ++queueAsked.current;
      api.queue().then(
        (runs) => {
          if (asked === queueAsked.current) setQueue(runs);
        },
        () => undefined, // the panel keeps the last order; the next change asks again
      );
    }, 50);
  }, [api]);
  useEffect(
    () => () => {
      if (queueTimer.current) clearTimeout(queueTimer.current);
    },
    [],
  );

  useEffect(() => {
    setCells(new Map());
    setQueue([]);
    setRunOrder([]);
    setError(null);
    if (artifactRoot) {
      void load();
      loadQueue();
    }
  }, [artifactRoot, load, loadQueue]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: trainingKey is a re-read trigger (a training job moved)
  useEffect(() => {
    if (artifactRoot) loadQueue();
  }, [trainingKey, artifactRoot, loadQueue]);

  /** Bumped when a job ends: its scores are in classical.json by then, so the jobs are re-read. */
  const [ended, setEnded] = useState(0);
  useEffect(
    () =>
      api.onProgress((e) => {
        eventCount.current++;
        setCells((c) => foldClassical(c, e));
        setRunOrder((o) => (o.includes(e.runId) ? o : [e.runId, ...o]));
        if (e.state !== 'running' || e.iteration === 0) loadQueue();
        if (e.state !== 'running' && e.state !== 'queued') setEnded((n) => n + 1);
      }),
    [api, loadQueue],
  );
  useEffect(() => {
    if (ended > 0) void load();
  }, [ended, load]);

  const session = useMemo(() => {
    const rank = (c: ClassicalCell) => (c.runId === null ? -1 : runOrder.indexOf(c.runId));
    return [...cells.values()].filter((c) => rank(c) >= 0).sort((a, b) => rank(a) - rank(b));
  }, [cells, runOrder]);

  return { cells, queue, session, error };
}
