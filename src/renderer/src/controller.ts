/**
 * Glue between the engine and the stores: loads a study, follows live job states and
 * training events, reloads the manifest when jobs change, and rebuilds curves from disk
 * when a study is opened (so finished runs keep their curves after a restart).
 */
import { type PresetName, STUDY_PRESETS } from '../../shared/presets';
import type { TrainEvent } from '../../shared/events';
import type { JobFreshness } from '../../shared/fingerprint';
import type { JobProgress } from '../../shared/manifest';
import { onConnection } from './api-client';
import type { ClassicalRunInput, Engine, RunOptions } from './engine';
import { createEngine } from './engine-api';
import { errorText } from './errors';
import { createCoalescer } from './lib/coalesce';
import { trainCommand } from './lib/cli-command';
import { createCancelTracker, runNotice } from './lib/run-notice';
import { isActive, type JobCell } from './model';
import type { CurveStore } from './stores/curves';
import { type Knobs, type Roots, type SlurmOptions, useSettings } from './stores/settings';
import { useStudy } from './stores/study';

export { errorText } from './errors';

export function cliCommand(
  roots: Roots,
  selected: JobCell[],
  doses: number[],
  knobs: Knobs,
  dryRun: boolean,
  options: { force?: boolean; slurm?: SlurmOptions | null } = {},
): string {
  const all = [...useStudy.getState().cells.values()].filter((c) => doses.includes(c.dose));
  return trainCommand(roots, selected, all, knobs, dryRun, options);
}

/** States whose job has (or had) an events.jsonl worth drawing. */
const HAS_EVENTS = new Set(['running', 'done', 'failed', 'cancelled', 'diverged', 'interrupted']);

export function createController(curves: CurveStore, engine: Engine = createEngine()) {
  const study = useStudy.getState;
  const patch = (p: Parameters<ReturnType<typeof study>['patch']>[0]) => study().patch(p);

  const reloadManifest = async () => {
    const roots = study().roots;
    if (!roots) return;
    try {
      const r = await engine.readManifest(roots);
      study().setManifest(r.manifest, r.path, r.skipSummary);
    } catch (e) {
      patch({ manifestError: errorText(e) });
    }
  };
  // Job-state bursts (nine jobs queueing at once) become one manifest read.
  const manifestReload = createCoalescer(() => void reloadManifest(), 250);

  const reloadCurve = async (roots: Roots, id: string) => {
    try {
      const r = await engine.readJobEvents(roots, id);
      curves.replace(id, r.events);
      if (r.skippedLines > 0)
        patch({ notice: `${id}: ${r.skippedLines} line(s) of events.jsonl were not valid events and were skipped` });
    } catch (e) {
      patch({ notice: `Could not read the events of ${id}: ${errorText(e)}` });
    }
  };
  const ours = (artifactRoot: string) => study().roots?.artifact === artifactRoot;

  /**
   * Jobs trained by another process (a CLI run): their events.jsonl is read from the start,
   * then once a second as it grows — until the engine's own trainEvent batches for the job
   * arrive (an engine that follows external runs streams them like its own).
   */
  const followed = new Map<string, { timer: ReturnType<typeof setInterval>; nextByte: number; busy: boolean }>();
  const follow = (id: string) => {
    if (followed.has(id)) return;
    const f = { timer: setInterval(() => void poll(), 1000), nextByte: 0, busy: false };
    followed.set(id, f);
    const poll = async () => {
      const roots = study().roots;
      if (!roots || f.busy) return;
      f.busy = true;
      try {
        const r = await engine.readJobEventsFrom(roots, id, f.nextByte);
        if (followed.get(id) !== f) return;
        if (f.nextByte === 0) curves.replace(id, r.events);
        else for (const ev of r.events) curves.ingest(id, ev);
        f.nextByte = r.nextByte;
      } catch {
        // the file may not exist yet; the next tick tries again
      } finally {
        f.busy = false;
      }
    };
    void poll();
  };
  const unfollow = (id: string) => {
    const f = followed.get(id);
    if (!f) return;
    clearInterval(f.timer);
    followed.delete(id);
  };
  const cancels = createCancelTracker();
  let cancelNotice: string | null = null;
  /** A job the last cancel named has stopped: once all have, say how they ended instead of "Cancelling …". */
  const settleCancel = (jobId: string, status: Parameters<typeof cancels.settle>[1]) => {
    const next = cancels.settle(jobId, status);
    if (next === null) return;
    // Only replace our own notice, never one that came after it.
    if (cancelNotice !== null && study().notice === cancelNotice) patch({ notice: next });
    cancelNotice = null;
  };

  const openRoots = async (roots: Roots) => {
    patch({ loading: true, rootsError: null });
    try {
      const listed = await engine.listJobs(roots);
      patch({ roots: listed.roots });
      useSettings.getState().set({ roots: listed.roots });
      study().setJobs(listed.doses, listed.jobs);
      await reloadManifest();
      const withEvents = [...study().cells.values()].filter((c) => HAS_EVENTS.has(c.state));
      await Promise.all(withEvents.map((c) => reloadCurve(listed.roots, c.id)));
    } catch (e) {
      patch({ rootsError: errorText(e) });
    } finally {
      patch({ loading: false });
    }
  };

  return {
    start(): () => void {
      void engine
        .getInfo()
        .then((info) => patch({ info, infoError: null }))
        .catch((e) => patch({ infoError: errorText(e) }));
      const offState = engine.onJobState((ev) => {
        if (!ours(ev.artifactRoot)) return;
        study().applyJobState(ev);
        // A job another process trains (a CLI run) sends no live events here: follow its file.
        if (ev.source === 'manifest' && ev.status === 'running') follow(ev.jobId);
        else if (ev.status !== 'running') unfollow(ev.jobId);
        settleCancel(ev.jobId, ev.status);
        manifestReload.poke();
        const roots = study().roots;
        // A settled job's curve is re-read from events.jsonl, so what is drawn is what is on disk.
        if (
          roots &&
          (ev.status === 'done' || ev.status === 'failed' || ev.status === 'cancelled' || ev.status === 'diverged')
        )
          void reloadCurve(roots, ev.jobId);
      });
      const offTrain = engine.onTrainEvents((batch) => {
        if (!ours(batch.artifactRoot)) return;
        for (const ev of batch.events) curves.ingest(batch.jobId, ev);
        // the engine streams this externally trained job itself: reading its file once was enough
        if ((followed.get(batch.jobId)?.nextByte ?? 0) > 0) unfollow(batch.jobId);
      });
      const offRun = engine.onRunState((ev) => {
        if (!ours(ev.artifactRoot) || ev.status === 'running') return;
        patch({ notice: runNotice(ev) });
        manifestReload.poke();
      });
      // Live progress for running cells comes from the curve store at its coalesced rate.
      const offCurves = curves.subscribe(() => {
        const updates = new Map<string, JobProgress>();
        for (const c of study().cells.values()) {
          if (c.state !== 'running') continue;
          const lp = curves.get(c.id)?.progress;
          if (!lp) continue;
          const prev = c.progress;
          const next = {
            step: lp.step ?? prev?.step ?? null,
            total_steps: lp.totalSteps ?? prev?.total_steps ?? null,
            epoch: lp.epoch ?? prev?.epoch ?? null,
            total_epochs: lp.totalEpochs ?? prev?.total_epochs ?? null,
            eta_s: lp.etaS ?? prev?.eta_s ?? null,
            last_loss: lp.lastLoss ?? prev?.last_loss ?? null,
          };
          if (
            !prev ||
            prev.step !== next.step ||
            prev.eta_s !== next.eta_s ||
            prev.epoch !== next.epoch ||
            prev.total_steps !== next.total_steps
          )
            updates.set(c.id, next);
        }
        study().applyProgress(updates);
      });
      const offConnection = onConnection((connected, reconnect) => {
        patch({ disconnected: !connected });
        // Events sent while the stream was down are lost: rebuild everything from disk.
        const roots = study().roots;
        if (reconnect && roots) void openRoots(roots);
      });
      // Jobs a Slurm cluster runs send no events here: while any is queued or running there, ask
      // again every 10 s (the engine folds Slurm's states into the manifest when listing).
      const slurmPoll = setInterval(() => {
        const roots = study().roots;
        if (!roots || study().loading) return;
        if (![...study().cells.values()].some((c) => c.slurm && isActive(c.state))) return;
        void engine
          .listJobs(roots)
          .then((listed) => {
            if (study().roots?.artifact !== listed.roots.artifact) return;
            study().setJobs(listed.doses, listed.jobs);
            return reloadManifest();
          })
          .catch(() => undefined);
      }, 10_000);
      void (async () => {
        const remembered = useSettings.getState().roots;
        const roots = remembered ?? (await engine.defaultRoots().catch(() => null));
        if (roots) await openRoots(roots);
      })();
      return () => {
        for (const id of [...followed.keys()]) unfollow(id);
        offState();
        offTrain();
        offRun();
        offConnection();
        offCurves();
        clearInterval(slurmPoll);
        manifestReload.dispose();
      };
    },

    openRoots,

    canCreateDemo: engine.createDemoStudy !== null,

    async createDemo(preset: PresetName = 'demo') {
      if (!engine.createDemoStudy) {
        patch({ rootsError: 'This engine build has no demo-study generator (WorkbenchApi lacks createDemoStudy).' });
        return;
      }
      patch({
        demo: { running: true, message: `Simulating the ${preset} study's Phase C and Phase D data…`, fraction: null },
      });
      try {
        const roots = await engine.createDemoStudy(
          (message, fraction) => patch({ demo: { running: true, message, fraction } }),
          preset,
        );
        patch({
          demo: {
            running: false,
            message: `${preset} study ready: ${STUDY_PRESETS[preset].budget}`,
            fraction: 1,
          },
        });
        await openRoots(roots);
      } catch (e) {
        patch({ demo: { running: false, message: null, fraction: null }, rootsError: errorText(e) });
      }
    },

    async run(ids: string[], dryRun: boolean, knobs: Knobs, options: RunOptions = {}) {
      const roots = study().roots;
      if (!roots || ids.length === 0) return;
      patch({ runError: null, notice: dryRun ? `Dry run of ${ids.length} job(s): nothing will be trained.` : null });
      // a dry run plans jobs; it queues nothing
      if (options.runOn !== 'slurm' && !dryRun) study().enqueue(ids);
      try {
        const r = await engine.runJobs(roots, ids, knobs, dryRun, options);
        const fresh = r.upToDate?.length
          ? `${r.upToDate.length} job(s) up to date, not retrained (tick "Retrain up-to-date jobs" to rerun them).`
          : '';
        if (r.slurmJobId)
          patch({
            notice: `Submitted Slurm job ${r.slurmJobId}: ${r.jobIds?.length ?? 0} array task(s). ${fresh}`.trim(),
          });
        else if (options.runOn === 'slurm' && dryRun)
          patch({ notice: `Dry run: ${r.jobIds?.length ?? 0} job(s) would be submitted to Slurm. ${fresh}`.trim() });
        else if (fresh) patch({ notice: r.jobIds?.length === 0 ? `Nothing to train: ${fresh}` : fresh });
      } catch (e) {
        patch({ runError: errorText(e) });
      } finally {
        await reloadManifest();
      }
    },

    /** Continue stopped jobs from their checkpoints; their curves continue where they stopped. */
    async resume(ids: string[]) {
      const roots = study().roots;
      if (!roots || ids.length === 0) return;
      patch({ runError: null });
      try {
        const r = await engine.resumeJobs(roots, ids);
        if (r.jobIds.length) study().enqueue(r.jobIds);
        const skipped = r.notResumed.map((n) => `${n.jobId}: ${n.reason}`).join('; ');
        patch({
          notice: `${r.jobIds.length ? `Resuming ${r.jobIds.length} job(s) from their checkpoints.` : 'Nothing resumed.'}${skipped ? ` Not resumed — ${skipped}` : ''}`,
        });
      } catch (e) {
        patch({ runError: errorText(e) });
      } finally {
        await reloadManifest();
      }
    },

    /**
     * A job's earlier attempts (every run but the current curve), each with its own events, for
     * the chart's attempts overlay; oldest first.
     */
    async earlierAttempts(id: string): Promise<{ attemptId: string; label: string; events: TrainEvent[] }[]> {
      const roots = study().roots;
      if (!roots) return [];
      const all = await engine.listJobAttempts(roots, id);
      const out: { attemptId: string; label: string; events: TrainEvent[] }[] = [];
      for (const [i, a] of all.entries()) {
        if (a.current) continue;
        const events = await engine.readAttemptEvents(roots, id, a.attemptId);
        const when = a.startedAt ? new Date(a.startedAt).toLocaleString() : a.attemptId;
        out.push({ attemptId: a.attemptId, label: `attempt ${i + 1} (${a.status ?? 'unknown'}, ${when})`, events });
      }
      return out;
    },

    /** The engine itself, for panels that read files (results, previews, attempts). */
    engine,

    /** The workbench plan: per selected job, "up to date" or "will run: <reason>" with these knobs. */
    async plan(ids: string[], knobs: Knobs, force: boolean): Promise<JobFreshness[]> {
      const roots = study().roots;
      if (!roots || ids.length === 0 || !engine.planJobs) return [];
      try {
        return await engine.planJobs(roots, ids, knobs, force);
      } catch {
        return [];
      }
    },

    async cancel(ids: string[] | 'all') {
      if (ids !== 'all' && ids.length === 0) return;
      try {
        const cancelled = await engine.cancelJobs(ids);
        if (cancelled.length === 0) {
          patch({ notice: 'Nothing to cancel.' });
          return;
        }
        cancelNotice = cancels.start(cancelled);
        patch({ notice: cancelNotice });
        // A queued job is cancelled at once: its state may have arrived before this answer.
        for (const id of cancelled) {
          const state = study().cells.get(id)?.state;
          if (state && state !== 'queued' && state !== 'running') settleCancel(id, state);
        }
      } catch (e) {
        patch({ runError: errorText(e) });
      }
    },

    /**
     * The Classical row's calls: its runs wait in the same queue as training runs, so a
     * reconstruction asked for while a job trains is accepted and shows queued.
     */
    classical: {
      list: async () => {
        const roots = study().roots;
        return roots ? engine.getClassical(roots.artifact) : null;
      },
      start: async (input: ClassicalRunInput) => {
        const roots = study().roots;
        if (!roots) throw new Error('no study is open');
        return engine.reconstructClassical(roots, input);
      },
      /** Continue a cancelled or interrupted job with the settings its recon.npz was made with. */
      resume: async (job: { dose: number; view: ClassicalRunInput['view'] }) => {
        const roots = study().roots;
        if (!roots) throw new Error('no study is open');
        return engine.reconstructClassical(roots, { dose: job.dose, view: job.view, resume: true });
      },
      /** Takes this study's queued reconstructions (or only run `runId`) out and stops the running one. */
      cancel: async (runId?: string) => {
        const roots = study().roots;
        return roots ? engine.cancelClassical(roots.artifact, runId) : false;
      },
      /** This study's runs in the one run queue (training and classical), in the order they run. */
      queue: async () => {
        const roots = study().roots;
        return roots ? (await engine.listQueue(roots.artifact)).runs : [];
      },
      /** Progress of this study's classical jobs. */
      onProgress: (handler: Parameters<Engine['onClassicalProgress']>[0]) =>
        engine.onClassicalProgress((e) => {
          if (ours(e.artifactRoot)) handler(e);
        }),
    },

    readLog: async (id: string) => {
      const roots = study().roots;
      if (!roots) return { text: '', path: null, truncated: false };
      return engine.readJobLog(roots, id);
    },
  };
}

export type Controller = ReturnType<typeof createController>;
