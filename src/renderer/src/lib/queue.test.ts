import { describe, expect, it } from 'vitest';
import type { QueuedRunView } from '../../../shared/queue-api';
import { type CellState, type JobCell, jobCell } from '../model';
import type { ClassicalCell } from './classical';
import { queueItems } from './queue';

const job = (id: string, state: CellState): JobCell => jobCell({ id, dose: 1000, view: 'dense', gridsize: 2, state });

const classical = (jobId: string, state: ClassicalCell['state'], runId: string | null = null): ClassicalCell => ({
  jobId,
  dose: 1000,
  view: 'dense',
  state,
  iteration: 0,
  iterations: 10,
  errors: [],
  row: null,
  message: null,
  resumable: false,
  runId,
});

const run = (runId: string, kind: QueuedRunView['kind'], state: QueuedRunView['state'], jobIds: string[]) => ({
  runId,
  kind,
  state,
  artifactRoot: '/a',
  jobIds,
});

const order = (items: ReturnType<typeof queueItems>) => items.map((i) => `${i.kind} ${i.id}`);

describe('run queue panel rows', () => {
  it('lists classical jobs among training jobs in the queue’s order, then live ones it does not list, then finished ones', () => {
    const runs = [
      run('t1', 'training', 'running', ['a', 'b']),
      run('c1', 'classical', 'queued', ['x-classical', 'y-classical']),
      run('t2', 'training', 'queued', ['c']),
    ];
    // the panel's training order is latest run first: the queue's order wins for live jobs
    const training = [
      job('c', 'queued'),
      job('a', 'running'),
      job('b', 'queued'),
      job('old', 'done'),
      job('slurm', 'queued'),
    ];
    const cells = [
      classical('x-classical', 'queued'), // after a reload: the listing does not know its run
      classical('y-classical', 'queued', 'c1'),
      classical('z-classical', 'done', 'c0'),
    ];
    const items = queueItems(runs, training, cells);
    expect(order(items)).toEqual([
      'training a',
      'training b',
      'classical x-classical',
      'classical y-classical',
      'training c',
      'training slurm',
      'training old',
      'classical z-classical',
    ]);
    // Cancel acts on the run holding the job, known from the queue
    expect(items.find((i) => i.id === 'x-classical')).toMatchObject({ runId: 'c1' });
  });

  it('a job of a run that has ended is not placed by it; a classical job not (yet) in the queue keeps its own run', () => {
    const items = queueItems(
      [run('c1', 'classical', 'running', ['x-classical'])],
      [job('a', 'done')],
      [classical('x-classical', 'done', 'c1'), classical('w-classical', 'queued', 'c2')],
    );
    expect(order(items)).toEqual(['classical w-classical', 'training a', 'classical x-classical']);
    expect(items[0]).toMatchObject({ runId: 'c2' });
  });
});
