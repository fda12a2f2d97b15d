/**
 * A real one-node Slurm for the Slurm tests: `scripts/slurm-local.sh` starts munged,
 * slurmctld and slurmd in a private folder and `stop()` ends them by pid. Where Slurm cannot
 * start (not root, packages absent) the reason comes back for the test to skip with; with
 * PTYCHO_REQUIRE_SLURM=1 (set by .ci/run) that is an error instead, so CI never skips it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli';

export interface LocalSlurm {
  /** Environment for the CLI and the Slurm client commands (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  dir: string;
  stop(): void;
}

const script = join(repoRoot, 'scripts', 'slurm-local.sh');

export function startLocalSlurm(): { slurm: LocalSlurm | null; reason: string | null } {
  const dir = mkdtempSync(join(tmpdir(), 'ptycho-slurm-'));
  const env = { ...process.env, PTYCHO_SLURM_DIR: dir };
  const r = spawnSync('bash', [script, 'start'], { env, encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) {
    const stop = spawnSync('bash', [script, 'stop'], { env, encoding: 'utf8' });
    void stop;
    rmSync(dir, { recursive: true, force: true });
    const reason = (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').at(-1) ?? 'unknown';
    if (process.env.PTYCHO_REQUIRE_SLURM === '1')
      throw new Error(`Slurm is required here but did not start: ${reason}`);
    return { slurm: null, reason };
  }
  const conf = /SLURM_CONF=(\S+)/.exec(r.stdout)?.[1] ?? join(dir, 'slurm.conf');
  return {
    reason: null,
    slurm: {
      dir,
      env: { SLURM_CONF: conf },
      stop() {
        spawnSync('bash', [script, 'stop'], { env, encoding: 'utf8', timeout: 30_000 });
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}
