/** Entry of the `ptycho-study` binary (bundled to out/node/cli.js). */
import '../trainer/register';
import { formatError } from './output';
import { runCli } from './run';

runCli(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e) => {
    console.error(formatError(e));
    process.exitCode = 1;
  },
);
