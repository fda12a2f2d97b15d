import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { EventPayload } from '../../../shared/api';
import { PresetName } from '../../../shared/presets';
import { StudyError } from '../../../shared/errors';
import { bindDecision } from '../../server/guard';
import { startServer } from '../../server/server';
import { WorkbenchService } from '../../service/workbench-service';
import type { CliContext } from '../context';

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port 0–65535, got '${value}'`);
  return n;
}

interface ServeFlags {
  port: number;
  host: string;
  allowRemote?: boolean;
  workspace: string;
  open?: boolean;
  /** true (bare --demo) = the demo preset. */
  demo?: boolean | string;
}

export function registerServe(program: Command, context: CliContext = {}): void {
  program
    .command('serve')
    .description('serve the workbench to a browser on this machine (token-protected)')
    .option('--port <n>', 'port to listen on (0 picks a free one)', parsePort, 0)
    .option('--host <addr>', 'address to bind (a non-loopback one needs --allow-remote)', '127.0.0.1')
    .option('--allow-remote', 'allow binding an address other machines can reach (e.g. --host 0.0.0.0)')
    .option('--workspace <dir>', 'workspace folder (phase_c/, phase_d/, artifacts/ inside)', '.')
    .option('--open', 'open the system browser at the Workbench URL')
    .option(
      '--demo [preset]',
      'create a study (phase_c/, phase_d/) first if the workspace has no phase_c: preset demo (default, seconds), trend (the dose trend, ≈ 25 min of training on 2 cores) or paper',
    )
    .action(async (opts: ServeFlags) => {
      // Refuse (or warn about) a network-wide bind before anything is created.
      const bind = bindDecision(opts.host, opts.allowRemote ?? false);
      if (!bind.ok) throw new StudyError('BAD_INPUT', bind.message, { key: 'host', found: opts.host });
      const workspace = resolve(opts.workspace);
      mkdirSync(workspace, { recursive: true });
      const presetName = opts.demo === true ? 'demo' : opts.demo;
      if (presetName !== undefined && presetName !== false && !PresetName.safeParse(presetName).success) {
        throw new StudyError('BAD_INPUT', `--demo ${presetName}: expected one of ${PresetName.options.join(', ')}`, {
          key: 'demo',
          found: presetName,
          expected: PresetName.options,
        });
      }
      const service = new WorkbenchService({ transport: 'http', workspace, runner: context.runner });
      if (opts.demo && !service.data.hasStudy(workspace)) {
        // stdout carries only the Workbench line; progress goes to stderr
        const { progressBar } = await import('./simulate');
        console.error(`Creating the demo study in ${workspace} …`);
        const bar = progressBar(true);
        const unsubscribe = service.subscribe((event, payload) => {
          if (event !== 'demoProgress') return;
          const p = payload as EventPayload<'demoProgress'>;
          bar.update(`Phase ${p.phase} ${p.stage}`, p.done, p.total);
        });
        try {
          const demo = await service.data.createDemoStudy({ folder: workspace, preset: PresetName.parse(presetName) });
          bar.stop();
          console.error(`Demo study ready: ${demo.phaseCRoot}, ${demo.phaseDRoot}`);
        } finally {
          unsubscribe();
          bar.stop();
        }
      }
      const server = await startServer(service, { port: opts.port, host: opts.host, allowRemote: opts.allowRemote });
      if (server.warning) console.error(server.warning);
      console.log(`Workbench: ${server.url}`);
      if (opts.open) {
        const { openInBrowser } = await import('../open-browser');
        openInBrowser(server.url);
      }
      // Stopping the server cancels running jobs cleanly (checkpoint written, state
      // `cancelled`) instead of leaving them to be found `interrupted` at the next start.
      // SIGHUP (the terminal closed) stops the same way but silently: the terminal that
      // would show the messages is gone, and writing to it could fail.
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) return;
        stopping = true;
        const say = signal === 'SIGHUP' ? () => {} : (line: string) => console.error(line);
        say('Stopping: cancelling running jobs …');
        void service
          .close()
          .catch((e: unknown) => say(`error while cancelling jobs: ${String(e)}`))
          .then(() => server.close())
          .then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      process.on('SIGHUP', stop);
    });
}
