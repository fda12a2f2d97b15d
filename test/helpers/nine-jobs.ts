/**
 * The demo study's nine job cells (three doses × baseline gs1, dense gs2, sparse gs2) as the
 * workbench's study store holds them after listJobs, all in one state: the synthetic matrix
 * the UI bench and the monitoring e2e put into the page (`study.getState().setJobs`).
 */
import { blankJobCellFields } from '../../src/shared/job-cell';

export const NINE_DOSES = [1000, 10000, 100000] as const;

const COLUMNS: readonly [view: string, gridsize: number][] = [
  ['baseline', 1],
  ['dense', 2],
  ['sparse', 2],
];

export type NineJobCell = Omit<ReturnType<typeof blankJobCellFields>, 'state'> & {
  id: string;
  dose: number;
  view: string;
  gridsize: number;
  state: string;
};

export function nineJobCells(state: 'running' | 'done'): NineJobCell[] {
  return NINE_DOSES.flatMap((dose) =>
    COLUMNS.map(([view, gridsize]) => ({
      id: `dose_${dose}-${view}-gs${gridsize}`,
      dose,
      view,
      gridsize,
      ...blankJobCellFields(),
      state,
    })),
  );
}
