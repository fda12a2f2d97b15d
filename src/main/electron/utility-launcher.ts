/**
 * The desktop launcher: each training job runs in an Electron utility process (a Node
 * process Electron manages), talking to the same worker entry as the CLI's forked child
 * through `process.parentPort`. Exit and stderr are watched like the fork launcher does.
 */
import { existsSync } from 'node:fs';
import { utilityProcess } from 'electron';
import { StudyError } from '../../shared/errors';
import { trainerEntryPath } from '../trainer/fork-launcher';
import { tailBuffer, type WorkerHandle, type WorkerLauncher } from '../trainer/host';

export function utilityLauncher(): WorkerLauncher {
  return () => {
    const entry = trainerEntryPath();
    if (!existsSync(entry)) {
      throw new StudyError('INTERNAL', 'the training worker is not built', {
        file: entry,
        hint: 'run `npm run build`',
      });
    }
    const child = utilityProcess.fork(entry, [], { stdio: 'pipe', serviceName: 'ptycho-study training worker' });
    const tail = tailBuffer();
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => tail.push(d));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => tail.push(d));
    const exitCbs: ((code: number | null, signal: string | null) => void)[] = [];
    let exited: number | null | undefined;
    let alive = true;
    child.on('exit', (code) => {
      alive = false;
      exited = code;
      // utilityProcess reports no signal; a crash shows as a non-zero code.
      for (const cb of exitCbs) cb(code, null);
    });
    const handle: WorkerHandle = {
      send(msg) {
        if (alive) child.postMessage(msg);
      },
      onMessage(cb) {
        child.on('message', cb);
      },
      onExit(cb) {
        if (exited !== undefined) cb(exited, null);
        else exitCbs.push(cb);
      },
      stderrTail: () => tail.text(),
      pid: () => child.pid,
      kill() {
        if (alive) child.kill();
      },
    };
    return handle;
  };
}
