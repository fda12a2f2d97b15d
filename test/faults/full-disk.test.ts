/**
 * Fault: the disk fills up under `train --dry-run` (a real 2 MiB tmpfs filled to ~16 KB free).
 * What must hold: training_manifest.json keeps every byte of its previous version, the error
 * names the file and says ENOSPC, no lock or temp file is left, and once space is freed the
 * next run succeeds at once (no misleading LOCKED after a 10 s wait).
 *
 * Needs root (mount -t tmpfs); elsewhere it is skipped with the reason, and the injected
 * short-write tests in atomic-write.test.ts cover the same guarantees.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatePhaseC } from '../../src/main/data/simulate';
import { createPlaceholderLayout } from '../fixtures/fixture-layout';
import { openJobLog } from '../../src/main/trainer/job-log';
import { runCliSync } from '../helpers/cli';

const base = mkdtempSync(join(tmpdir(), 'fault-disk-'));
const mountPoint = join(base, 'tmpfs');
mkdirSync(mountPoint);
const dataMount = join(base, 'tmpfs-data');
mkdirSync(dataMount);
const mount = (at: string, size: string) =>
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at]).status === 0;
const mounted = mount(mountPoint, '2m');
const dataMounted = mounted && mount(dataMount, '8m');

afterAll(() => {
  if (mounted) spawnSync('umount', [mountPoint]);
  if (dataMounted) spawnSync('umount', [dataMount]);
  rmSync(base, { recursive: true, force: true });
});

let fillers = 0;
function fillLeaving(bytesFree: number, at = mountPoint): void {
  const s = statfsSync(at);
  const free = s.bavail * s.bsize;
  writeFileSync(join(at, `filler-${fillers++}`), Buffer.alloc(Math.max(0, free - bytesFree)));
}

const train = () =>
  runCliSync(
    ['train', '--phase-c-root', 'phase_c', '--phase-d-root', 'phase_d', '--artifact-root', 'artifacts', '--dry-run'],
    { cwd: mountPoint },
  );

describe.skipIf(!mounted)('train --dry-run on a full disk (tmpfs)', () => {
  let manifest: string;
  beforeAll(() => {
    createPlaceholderLayout(mountPoint);
    expect(train().code).toBe(0);
    manifest = join(mountPoint, 'artifacts', 'training_manifest.json');
  });

  it('keeps the previous manifest whole and names the file in the ENOSPC error', () => {
    const before = readFileSync(manifest);
    expect(before.length).toBeGreaterThan(30_000);
    fillLeaving(16 * 1024);
    const r = train();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`could not write ${manifest}: no space left on device (ENOSPC)`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // one line, no stack
    expect(readFileSync(manifest).equals(before)).toBe(true);
    expect(readdirSync(join(mountPoint, 'artifacts')).filter((f) => f.includes('.tmp') || f.endsWith('.lock'))).toEqual(
      [],
    );
  });

  it('with no byte free, the lock is not left behind and its error names it', () => {
    fillLeaving(0);
    const r = train();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/could not write \S+training_manifest\.json(\.lock)?: no space left on device/);
    expect(readdirSync(join(mountPoint, 'artifacts')).filter((f) => f.includes('.tmp') || f.endsWith('.lock'))).toEqual(
      [],
    );
  });

  it("a training job's event log names its file when the disk is full", () => {
    const log = openJobLog({
      eventsPath: join(mountPoint, 'events.jsonl'),
      logPath: join(mountPoint, 'train.log'),
    });
    expect(() => log.log('info', 'x'.repeat(8192))).toThrow(
      `could not write ${join(mountPoint, 'events.jsonl')}: no space left on device (ENOSPC)`,
    );
  });

  it('once space is freed the next run succeeds at once', () => {
    for (let i = 0; i < fillers; i++) rmSync(join(mountPoint, `filler-${i}`), { force: true });
    const t0 = Date.now();
    const r = train();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(JSON.parse(readFileSync(manifest, 'utf8')).runs.length).toBeGreaterThanOrEqual(2);
  });
});

describe.skipIf(!dataMounted)('simulate on a full disk (tmpfs)', () => {
  it('keeps the existing Phase C files, names the file it could not write, and leaves no staging', async () => {
    const root = join(dataMount, 'phase_c');
    const small = { objectSize: 128, nPositions: 40, doses: [1e3] };
    await simulatePhaseC(root, small);
    const files = ['dose_1000/patched_train.npz', 'dose_1000/patched_test.npz', 'run_manifest.json', 'simulation.json'];
    const before = files.map((f) => readFileSync(join(root, f)));
    fillLeaving(512 * 1024, dataMount);
    await expect(simulatePhaseC(root, { ...small, seed: 7 })).rejects.toThrow(
      new RegExp(
        `could not write ${root}/dose_1000/patched_(train|test)\\.npz: no space left on device \\(ENOSPC\\) \\(nothing in ${root} was replaced\\)`,
      ),
    );
    expect(files.map((f, i) => readFileSync(join(root, f)).equals(before[i]))).toEqual(files.map(() => true));
    expect(readdirSync(root).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

// Where no tmpfs can be mounted, say so as a skipped test (and only there).
if (!mounted) {
  describe('train --dry-run on a full disk (tmpfs)', () => {
    it.skip('needs root to mount a small tmpfs; atomic-write.test.ts injects the short write instead', () => {});
  });
}
