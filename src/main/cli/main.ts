/** Entry of the `ptycho-study` binary (bundled to out/node/cli.js): jobs train in worker processes. */
import { createWorkerRunner } from '../trainer/runner';
import { formatError } from './output';
import { runCli } from './run';

runCli(process.argv.slice(2), { runner: createWorkerRunner() }).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e) => {
    console.error(formatError(e));
    process.exitCode = 1;
  },
);
