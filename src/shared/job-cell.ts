/**
 * The fields of a workbench job cell (src/renderer/src/model.ts `JobCell`) before anything is
 * known beyond its place in the matrix: ready, no progress, no files. Shared so that the
 * renderer's cells and the synthetic matrices of the UI bench and e2e start from one list.
 */
export function blankJobCellFields() {
  return {
    state: 'ready' as const,
    reason: null,
    missingFiles: [] as string[],
    finalLoss: null,
    dryRun: false,
    progress: null,
    etaAt: null,
    artifactDir: null,
    logPath: null,
  };
}
