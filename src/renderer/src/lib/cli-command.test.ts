import { describe, expect, it } from 'vitest';
import { trainCommand } from './cli-command';

const all = [1000, 10000, 100000].flatMap((dose) =>
  [
    ['baseline', 1],
    ['dense', 2],
    ['sparse', 2],
  ].map(([view, gridsize]) => ({ dose, view: view as string, gridsize: gridsize as number })),
);
const roots = { phaseC: '/w/phase_c', phaseD: '/w/phase_d', artifact: '/w/my artifacts' };
const knobs = {
  max_epochs: null,
  n_groups: null,
  batch_size: null,
  accelerator: 'auto',
  deterministic: false,
  seed: null,
};

describe('equivalent CLI command', () => {
  it('one cell is the seed 003 dry-run command', () => {
    const cmd = trainCommand(roots, [all[0]], all, knobs, true);
    expect(cmd).toBe(
      "ptycho-study train --phase-c-root /w/phase_c --phase-d-root /w/phase_d --artifact-root '/w/my artifacts' --dose 1000 --view baseline --dry-run",
    );
  });

  it('a column is one --view filter and a row one --dose filter', () => {
    const dense = all.filter((j) => j.view === 'dense');
    expect(trainCommand(roots, dense, all, knobs, false)).toMatch(/ --view dense$/);
    const gs2 = all.filter((j) => j.gridsize === 2);
    expect(trainCommand(roots, gs2, all, knobs, false)).toMatch(/ --gridsize 2$/);
    const row = all.filter((j) => j.dose === 10000);
    expect(trainCommand(roots, row, all, knobs, false)).toMatch(/ --dose 10000$/);
    expect(trainCommand(roots, all, all, { ...knobs, max_epochs: 2, n_groups: 64 }, false)).toMatch(
      /artifacts' --max-epochs 2 --n-images 64$/,
    );
  });

  it('an irregular selection becomes one command per job', () => {
    const cmd = trainCommand(roots, [all[0], all[4]], all, knobs, false);
    expect(cmd.split('&&')).toHaveLength(2);
    expect(cmd).toContain('--dose 1000 --view baseline');
    expect(cmd).toContain('--dose 10000 --view dense');
  });
});

describe('equivalent Slurm command', () => {
  const slurm = {
    partition: 'gpu',
    time: '02:00:00',
    gres: 'gpu:1',
    cpusPerTask: 8,
    mem: '',
    maxParallel: 3,
    account: '',
    extra: '--qos=short',
  };
  it('a row on Slurm is one slurm submit with the filters, knobs, --force and the Slurm options', () => {
    const cmd = trainCommand(roots, all.slice(0, 3), all, { ...knobs, max_epochs: 60 }, false, { force: true, slurm });
    expect(cmd).toBe(
      "ptycho-study slurm submit --phase-c-root /w/phase_c --phase-d-root /w/phase_d --artifact-root '/w/my artifacts' --dose 1000 --max-epochs 60 --force --partition gpu --time 02:00:00 --gres gpu:1 --cpus-per-task 8 --max-parallel 3 --extra --qos=short",
    );
  });
  it('a scattered selection on Slurm is one command naming the jobs', () => {
    const cmd = trainCommand(roots, [all[0], all[4]], all, knobs, true, { slurm });
    expect(cmd).toContain('ptycho-study slurm submit ');
    expect(cmd).toContain('--job dose_1000-baseline-gs1,dose_10000-dense-gs2');
    expect(cmd).not.toContain('&&');
    expect(cmd.endsWith('--dry-run')).toBe(true);
  });
});
