/**
 * The workbench window: engine line and theme on top, the study roots bar, then the job
 * matrix with run controls and queue on the left, and curves over the manifest / log /
 * results tabs on the right. Sized for 1280×800 and up.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { canPickFolders } from './api-client';
import { ClassicalRow } from './components/ClassicalRow';
import { CurvesPanel } from './components/CurvesPanel';
import { FilterChips } from './components/FilterChips';
import { JobMatrix } from './components/JobMatrix';
import { LogTail } from './components/LogTail';
import { ManifestInspector } from './components/ManifestInspector';
import { ResultsPanel } from './components/ResultsPanel';
import { RunPanel } from './components/RunPanel';
import { PreviewPanel } from './components/PreviewPanel';
import { ResumeBar } from './components/ResumeBar';
import { RunQueue } from './components/RunQueue';
import { useClassicalFeed } from './components/useClassicalFeed';
import { StudyBar } from './components/StudyBar';
import { TopBar } from './components/TopBar';
import { cliCommand, createController } from './controller';
import { errorText } from './errors';
import { queueItems } from './lib/queue';
import { cellName, isActive } from './model';
import type { CurveStore } from './stores/curves';
import { useSettings } from './stores/settings';
import { matchesFilters, useStudy } from './stores/study';
import { TabBar } from './components/TabBar';
import type { JobFreshness } from '../../shared/fingerprint';

type Tab = 'manifest' | 'log' | 'results';

export function App({ curves }: { curves: CurveStore }) {
  const settings = useSettings();
  const study = useStudy();
  const [tab, setTab] = useState<Tab>('manifest');
  const ctl = useMemo(() => createController(curves), [curves]);

  useEffect(() => ctl.start(), [ctl]);
  useEffect(() => {
    // The UI benchmark reads this mark: the workbench itself (not the static shell) is on screen.
    performance.mark('workbench-ready');
  }, []);
  useEffect(() => {
    document.documentElement.dataset.theme = settings.theme;
  }, [settings.theme]);

  const cellList = useMemo(() => [...study.cells.values()], [study.cells]);
  const selectedCells = cellList.filter((c) => study.selection.ids.has(c.id));
  const focused = selectedCells.length === 1 ? selectedCells[0] : null;
  const focusedManifestJob = focused ? (study.manifest?.jobs.find((j) => j.id === focused.id) ?? null) : null;
  const queueJobs = study.queueOrder
    .map((id) => study.cells.get(id))
    .filter((c): c is NonNullable<typeof c> => !!c)
    .concat(cellList.filter((c) => isActive(c.state) && !study.queueOrder.includes(c.id)));
  // the classical jobs and the one run queue's order (re-read whenever a training job moves)
  const trainingKey = cellList
    .filter((c) => isActive(c.state))
    .map((c) => `${c.id}:${c.state}`)
    .join(',');
  const classical = useClassicalFeed(ctl.classical, study.roots?.artifact ?? null, trainingKey);

  // Changes whenever a job settles: the results re-read their files then.
  const settledKey = cellList
    .filter((c) => !isActive(c.state))
    .map((c) => `${c.id}:${c.state}`)
    .join(',');

  // Previews follow the one selected job, else the one job training now.
  const running = cellList.filter((c) => c.state === 'running');
  const previewCell = focused ?? (running.length === 1 ? running[0] : null);
  const listPreviews = useCallback(
    async (id: string) => {
      const roots = useStudy.getState().roots;
      if (!roots) return { previews: [], group: null, panels: [] };
      return ctl.engine.listJobPreviews(roots, id);
    },
    [ctl],
  );
  const readPreview = useCallback(
    async (id: string, epoch: number) => {
      const roots = useStudy.getState().roots;
      if (!roots) throw new Error('no study is open');
      const r = await ctl.engine.readJobPreview(roots, id, epoch);
      return `data:${r.mime};base64,${r.base64}`;
    },
    [ctl],
  );

  const copy = useCallback((text: string, what: string) => {
    void navigator.clipboard
      ?.writeText(text)
      .then(() => useStudy.getState().patch({ notice: `Copied ${what}: ${text}` }))
      .catch(() => useStudy.getState().patch({ notice: `Could not copy; ${what}: ${text}` }));
  }, []);

  const visible = useCallback(
    (c: Parameters<typeof matchesFilters>[0]) => matchesFilters(c, study.filters),
    [study.filters],
  );
  const command = study.roots
    ? cliCommand(study.roots, selectedCells, study.doses, settings.knobs, settings.dryRun, {
        force: settings.force,
        slurm: settings.runOn === 'slurm' ? settings.slurm : null,
      })
    : '';

  // The plan for the selection: per job, up to date or why it will run (re-asked when a knob,
  // Retrain or a job's state changes).
  const [plan, setPlan] = useState<JobFreshness[]>([]);
  const selectedKey = selectedCells.map((c) => `${c.id}:${c.state}`).join(',');
  useEffect(() => {
    const ids = selectedKey ? selectedKey.split(',').map((s) => s.slice(0, s.lastIndexOf(':'))) : [];
    let live = true;
    const t = setTimeout(() => {
      void ctl.plan(ids, settings.knobs, settings.force).then((p) => {
        if (live) setPlan(p);
      });
    }, 250);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [ctl, selectedKey, settings.knobs, settings.force]);

  return (
    <div className="app">
      {/* the first Tab stop: straight to the matrix (then Tab reaches its first cell, arrows move) */}
      <a href="#job-matrix" className="skip-link">
        Skip to the job matrix
      </a>
      <TopBar
        info={study.info}
        error={study.infoError}
        theme={settings.theme}
        onTheme={(theme) => settings.set({ theme })}
      />
      {study.disconnected && (
        <p className="banner" role="alert">
          Lost the connection to the engine — reconnecting. Job states and curves will be re-read from disk.
        </p>
      )}
      <StudyBar
        roots={study.roots}
        error={study.rootsError}
        busy={study.loading}
        demo={study.demo}
        canPick={canPickFolders()}
        workspace={study.info?.workspace ?? null}
        confined={study.info?.transport === 'http'}
        canCreateDemo={ctl.canCreateDemo}
        onOpen={(roots) => void ctl.openRoots(roots)}
        onCreateDemo={(preset) => void ctl.createDemo(preset)}
      />
      <div className="columns">
        <div className="left">
          <FilterChips doses={study.doses} filters={study.filters} onChange={study.setFilters} />
          {study.cells.size === 0 && !study.loading && (
            <p className="muted">Open a study's roots, or create the demo study, to see its nine jobs.</p>
          )}
          <span id="job-matrix" tabIndex={-1} />
          {study.cells.size > 0 && (
            <JobMatrix
              doses={study.doses}
              cells={study.cells}
              selection={study.selection}
              visible={visible}
              onSelect={study.select}
            />
          )}
          {study.cells.size > 0 && (
            <ClassicalRow
              roots={study.roots}
              doses={study.doses}
              focused={focused ? { dose: focused.dose, view: focused.view } : null}
              api={ctl.classical}
              feed={classical}
            />
          )}
          <RunPanel
            knobs={settings.knobs}
            dryRun={settings.dryRun}
            selectedCount={selectedCells.length}
            providers={study.info?.providers ?? []}
            busy={study.loading}
            cliCommand={command}
            runOn={settings.runOn}
            force={settings.force}
            slurm={settings.slurm}
            plan={plan}
            onRunOn={(runOn) => settings.set({ runOn })}
            onForce={(force) => settings.set({ force })}
            onSlurm={(slurm) => settings.set({ slurm })}
            onKnob={settings.setKnob}
            onDryRun={(dryRun) => settings.set({ dryRun })}
            onRun={() =>
              void ctl.run(
                selectedCells.map((c) => c.id),
                settings.dryRun,
                settings.knobs,
                {
                  force: settings.force,
                  runOn: settings.runOn,
                  slurm: settings.slurm,
                },
              )
            }
          />
          <ResumeBar selected={selectedCells} busy={study.loading} onResume={(ids) => void ctl.resume(ids)} />
          {study.runError && (
            <p className="error" role="alert">
              {study.runError}
            </p>
          )}
          <RunQueue
            items={queueItems(classical.queue, queueJobs, classical.session)}
            onCancel={(ids) => void ctl.cancel(ids)}
            onCancelClassical={(runId) =>
              void ctl.classical
                .cancel(runId ?? undefined)
                .catch((e: unknown) => useStudy.getState().patch({ runError: errorText(e) }))
            }
          />
        </div>
        <div className="right">
          <CurvesPanel
            store={curves}
            cells={cellList}
            doses={study.doses}
            selectedIds={study.selection.ids}
            filters={study.filters}
            smoothing={settings.smoothing}
            ignoreOutliers={settings.ignoreOutliers}
            xAxis={settings.xAxis}
            logScale={settings.logScale}
            theme={settings.theme}
            onSmoothing={(smoothing) => settings.set({ smoothing })}
            onIgnoreOutliers={(ignoreOutliers) => settings.set({ ignoreOutliers })}
            onXAxis={(xAxis) => settings.set({ xAxis })}
            onLogScale={(logScale) => settings.set({ logScale })}
            loadAttempts={ctl.earlierAttempts}
            aside={
              <PreviewPanel
                store={curves}
                jobId={previewCell?.id ?? null}
                jobName={previewCell ? cellName(previewCell) : ''}
                list={listPreviews}
                read={readPreview}
              />
            }
          />
          <TabBar<Tab>
            className="tabs"
            label="Details"
            tabs={
              [
                ['manifest', 'Manifest'],
                ['log', focused ? `Log · ${cellName(focused)}` : 'Log'],
                ['results', 'Results'],
              ] as [Tab, string][]
            }
            selected={tab}
            onSelect={setTab}
          />
          <div className="tabpanel" role="tabpanel">
            {tab === 'manifest' && (
              <ManifestInspector
                manifest={study.manifest}
                manifestPath={study.manifestPath}
                skipSummary={study.skipSummary}
                job={focusedManifestJob}
                error={study.manifestError}
                onCopy={copy}
              />
            )}
            {tab === 'results' && (
              <ResultsPanel
                engine={ctl.engine}
                artifactRoot={study.roots?.artifact ?? null}
                jobIds={selectedCells.map((c) => c.id)}
                revision={settledKey}
                onPickJob={(id) => study.select({ ids: new Set([id]), anchor: id })}
                onCopy={copy}
              />
            )}
            {tab === 'log' && (
              <LogTail
                jobId={focused?.id ?? null}
                jobName={focused ? cellName(focused) : ''}
                live={!!focused && isActive(focused.state)}
                revision={focused ? `${focused.state}` : ''}
                read={ctl.readLog}
                onCopy={copy}
              />
            )}
          </div>
        </div>
      </div>
      <div className="statusline" role="status" aria-live="polite">
        {study.notice}
      </div>
    </div>
  );
}
