/**
 * The CLI/server launcher: the training worker as a Node child process
 * (`child_process.fork` of the bundled out/node/trainer.js) with an IPC channel and a
 * piped stderr whose tail goes into the job log if the worker dies.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StudyError } from '../../shared/errors';
import { packageRoot } from '../paths';
import { tailBuffer, type WorkerHandle, type WorkerLauncher } from './host';

/** The bundled worker entry (scripts/build-node.mjs → out/node/trainer.js). */
export function trainerEntryPath(): string {
  return process.env.PTYCHO_TRAINER_ENTRY ?? join(packageRoot(), 'out', 'node', 'trainer.js');
}

export function forkLauncher(opts: { entry?: string; env?: NodeJS.ProcessEnv } = {}): WorkerLauncher {
  return () => {
    const entry = opts.entry ?? trainerEntryPath();
    if (!existsSync(entry)) {
      throw new StudyError('INTERNAL', 'the training worker is not built', {
        file: entry,
        hint: 'run `npm run build` (or node scripts/build-node.mjs)',
      });
    }
    const child = fork(entry, [], {
      // stdout too: nothing a worker prints may reach the CLI's own output (e.g. --json).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...opts.env },
      serialization: 'advanced',
    });
    const tail = tailBuffer();
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      tail.push(d);
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      tail.push(d);
    });
    const exitCbs: ((code: number | null, signal: string | null) => void)[] = [];
    let exited: [number | null, string | null] | null = null;
    // 'close' comes after stdio has drained, so the stderr tail is complete.
    child.on('close', (code, signal) => {
      exited = [code, signal];
      for (const cb of exitCbs) cb(code, signal);
    });
    child.on('error', (err) => tail.push(`\n${err.message}\n`));
    const handle: WorkerHandle = {
      send(msg) {
        if (child.connected) child.send(msg);
      },
      onMessage(cb) {
        child.on('message', cb);
      },
      onExit(cb) {
        if (exited) cb(exited[0], exited[1]);
        else exitCbs.push(cb);
      },
      stderrTail: () => tail.text(),
      pid: () => child.pid,
      idle(waiting) {
        // the process, its IPC channel and its pipes each hold the host's event loop open
        const handles = [child, child.channel, child.stdout, child.stderr] as ({
          ref?(): void;
          unref?(): void;
        } | null)[];
        for (const h of handles) (waiting ? h?.unref : h?.ref)?.call(h);
      },
      kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
    return handle;
  };
}
