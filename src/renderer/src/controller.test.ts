import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobStateEvent, RunStateEvent } from '../../shared/study-api';

vi.mock('./api-client', () => ({
  call: vi.fn(() => new Promise(() => {})),
  onConnection: vi.fn(() => () => {}),
}));

const { createController } = await import('./controller');
const { useStudy } = await import('./stores/study');
const { CurveStore } = await import('./stores/curves');
import type { Engine } from './engine';
import { type JobCell, jobCell } from './model';

const roots = { phaseC: '/w/phase_c', phaseD: '/w/phase_d', artifact: '/w/artifacts' };
const IDS = ['a', 'b', 'c', 'd'];

function cell(id: string, state: JobCell['state']): JobCell {
  return jobCell({ id, dose: 1000, view: 'baseline', gridsize: 1, state });
}

/** Engine methods these tests never reach: each says so if it is called. */
function unused(): Omit<
  Engine,
  | 'defaultRoots'
  | 'listJobs'
  | 'readManifest'
  | 'runJobs'
  | 'cancelJobs'
  | 'readJobEvents'
  | 'readJobLog'
  | 'createDemoStudy'
  | 'onJobState'
  | 'onTrainEvents'
  | 'onRunState'
> {
  const no = (name: string) => async () => {
    throw new Error(`${name} is not used by this test`);
  };
  return {
    resumeJobs: no('resumeJobs'),
    readJobEventsFrom: no('readJobEventsFrom'),
    listJobAttempts: no('listJobAttempts'),
    readAttemptEvents: no('readAttemptEvents'),
    listJobPreviews: no('listJobPreviews'),
    readJobPreview: no('readJobPreview'),
    getInfo: () => new Promise(() => {}),
    getComparison: no('getComparison'),
    reportHref: () => '',
    evaluateStudy: no('evaluateStudy'),
    buildReport: no('buildReport'),
    getJobEvaluation: no('getJobEvaluation'),
    readReportImage: no('readReportImage'),
    onEvalProgress: () => () => {},
    reconstructClassical: no('reconstructClassical'),
    cancelClassical: no('cancelClassical'),
    getClassical: no('getClassical'),
    listQueue: no('listQueue'),
    onClassicalProgress: () => () => {},
  };
}

/** An engine whose pushed events the test sends by hand. */
function fakeEngine(cancelled: string[], beforeAnswer?: () => void) {
  let onState: (ev: JobStateEvent) => void = () => {};
  let onRun: (ev: RunStateEvent) => void = () => {};
  const engine: Engine = {
    ...unused(),
    defaultRoots: async () => null,
    listJobs: async () => ({ roots, doses: [], jobs: [], manifestPath: '' }),
    readManifest: async () => ({ manifest: null, path: null, skipSummary: null, raw: null }),
    runJobs: async () => ({ runId: 'r' }),
    cancelJobs: async () => {
      beforeAnswer?.();
      return cancelled;
    },
    readJobEvents: async () => ({ events: [], skippedLines: 0 }),
    readJobLog: async () => ({ text: '', path: null, truncated: false }),
    createDemoStudy: null,
    onJobState: (h) => {
      onState = h;
      return () => {};
    },
    onTrainEvents: () => () => {},
    onRunState: (h) => {
      onRun = h;
      return () => {};
    },
  };
  const state = (jobId: string, status: JobStateEvent['status']) =>
    onState({
      artifactRoot: roots.artifact,
      runId: 'r',
      jobId,
      status,
      progress: null,
      finalLoss: null,
      error: null,
      errorCode: null,
      skipReason: null,
      index: IDS.indexOf(jobId) + 1,
      total: IDS.length,
    });
  const run = (outcomes: RunStateEvent['outcomes']) =>
    onRun({
      artifactRoot: roots.artifact,
      runId: 'r',
      status: 'cancelled',
      exitCode: 130,
      jobIds: IDS,
      dryRun: false,
      outcomes,
    });
  return { engine, state, run };
}

function setUp(running: string) {
  useStudy.setState({
    roots,
    notice: null,
    cells: new Map(IDS.map((id) => [id, cell(id, id === running ? 'running' : 'queued')])),
  });
}

let stop: () => void = () => {};
afterEach(() => stop());

describe('the status line while a job is cancelled', () => {
  it('"Cancelling …" clears as soon as the cancelled job has stopped, while the run goes on', async () => {
    setUp('a');
    const f = fakeEngine(['a']);
    const c = createController(new CurveStore(), f.engine);
    stop = c.start();
    await c.cancel(['a']);
    expect(useStudy.getState().notice).toBe('Cancelling a…');
    f.state('b', 'running');
    expect(useStudy.getState().notice).toBe('Cancelling a…');
    f.state('a', 'cancelled');
    expect(useStudy.getState().notice).toBe('Cancelled a.');
    f.state('b', 'done');
    f.state('c', 'done');
    f.state('d', 'done');
    f.run(IDS.map((jobId) => ({ jobId, status: jobId === 'a' ? 'cancelled' : 'done' })));
    expect(useStudy.getState().notice).toBe('Run finished: 3 done, 1 cancelled (exit code 130).');
  });

  it('a queued job whose cancelled state arrives before the cancel call answers still clears the notice', async () => {
    setUp('a');
    let f: ReturnType<typeof fakeEngine> | null = null;
    f = fakeEngine(['c'], () => f?.state('c', 'cancelled'));
    const c = createController(new CurveStore(), f.engine);
    stop = c.start();
    await c.cancel(['c']);
    expect(useStudy.getState().notice).toBe('Cancelled c.');
  });

  it('a later notice is not overwritten when the cancelled job stops', async () => {
    setUp('a');
    const f = fakeEngine(['a']);
    const c = createController(new CurveStore(), f.engine);
    stop = c.start();
    await c.cancel(['a']);
    useStudy.getState().patch({ notice: 'Copied the command' });
    f.state('a', 'cancelled');
    expect(useStudy.getState().notice).toBe('Copied the command');
  });
});
