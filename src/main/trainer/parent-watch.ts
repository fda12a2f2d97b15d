/**
 * A training worker must not outlive the process that started it: a killed CLI (kill -9,
 * a closed terminal) would otherwise leave it training into a folder the manifest calls
 * `running` forever, and a later `--resume` would put a second trainer beside it.
 *
 * Three signs that the parent is gone, whichever comes first: the IPC channel closes
 * (`disconnect`, a forked child), the worker is re-parented (its ppid changes), or the
 * parent's pid stops answering signal 0. The watch calls `onGone` once.
 */
import { isProcessAlive } from '../study/lock';

export interface ParentWatch {
  /** Also watch this pid (the host sends its own pid with `start`). */
  watchPid(pid: number): void;
  stop(): void;
}

export function watchParent(
  onGone: (why: string) => void,
  opts: { intervalMs?: number; proc?: NodeJS.Process } = {},
): ParentWatch {
  const proc = opts.proc ?? process;
  const startPpid = proc.ppid;
  const pids = new Set<number>();
  let done = false;
  const gone = (why: string) => {
    if (done) return;
    done = true;
    stop();
    onGone(why);
  };
  const onDisconnect = () => gone('the IPC channel to the parent closed');
  // Only a forked child has a channel to lose; an Electron utility process is polled.
  if (proc.send) proc.on('disconnect', onDisconnect);
  const timer = setInterval(() => {
    if (proc.ppid !== startPpid) return gone(`the parent (pid ${startPpid}) is gone; re-parented to pid ${proc.ppid}`);
    for (const pid of pids) if (!isProcessAlive(pid)) return gone(`the parent (pid ${pid}) is gone`);
  }, opts.intervalMs ?? 500);
  // The watch alone must never keep the worker alive.
  timer.unref();
  function stop() {
    clearInterval(timer);
    proc.off('disconnect', onDisconnect);
  }
  return {
    watchPid(pid) {
      if (Number.isInteger(pid) && pid > 0) pids.add(pid);
    },
    stop,
  };
}
