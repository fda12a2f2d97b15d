/** CLI runner: normalises flag spellings, runs the program, prints errors in one line. */
import { CommanderError } from 'commander';
import { normalizeFlagSpelling } from './argv';
import type { CliContext } from './context';
import { CliExit, formatError } from './output';
import { buildProgram } from './program';

export async function runCli(argv: readonly string[], context: CliContext = {}): Promise<number> {
  const program = buildProgram(context);
  program.exitOverride();
  try {
    await program.parseAsync(normalizeFlagSpelling(argv), { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed help/version or the usage error
      return e.exitCode === 0 ? 0 : e.exitCode || 1;
    }
    if (e instanceof CliExit) {
      if (e.message) console.error(e.message);
      return e.exitCode;
    }
    console.error(formatError(e));
    return 1;
  }
}
