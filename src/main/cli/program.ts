/**
 * The `ptycho-study` command line: each command is a thin call into the engine, registered
 * from its own module under commands/.
 */
import { Command } from 'commander';
import { packageJson } from '../paths';
import type { CliContext } from './context';
import { registerInfo } from './commands/info';
import { registerOverlap } from './commands/overlap';
import { registerServe } from './commands/serve';
import { registerSimulate } from './commands/simulate';
import { registerValidate } from './commands/validate';
import { registerTrain } from './commands/train';
import { registerEvaluate } from './commands/evaluate';
import { registerReport } from './commands/report';
import { registerReconstruct } from './commands/reconstruct';
import { registerSlurm } from './commands/slurm';

export function buildProgram(context: CliContext = {}): Command {
  const program = new Command();
  program
    .name('ptycho-study')
    .description('PtychoPINN photon-dose / scan-overlap study: simulate, train, evaluate, serve the workbench')
    .version(packageJson().version)
    .showHelpAfterError('(run `ptycho-study --help` for the list of commands)')
    .showSuggestionAfterError(true);
  registerInfo(program);
  registerServe(program, context);
  registerSimulate(program);
  registerOverlap(program);
  registerValidate(program);
  registerTrain(program, context);
  registerEvaluate(program);
  registerReport(program);
  registerReconstruct(program);
  registerSlurm(program);
  return program;
}
