/**
 * The knob table end to end through `train`: a knob's flag (hyphen or underscore) reaches the
 * manifest's knobs, the job's resolved config and the legacy dictionary; a refused value names
 * the flag and the range.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliSync } from '../../../../test/helpers/cli';
import { TrainingManifest } from '../../../shared/manifest';
import type { StudyRoots } from '../../study/jobs';
import { createPlaceholderLayout } from '../../../../test/fixtures/fixture-layout';

let dir: string;
let roots: StudyRoots;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'train-knobs-'));
  roots = createPlaceholderLayout(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function train(args: string[]) {
  return runCliSync(
    ['train', '--phase-c-root', 'phase_c', '--phase-d-root', 'phase_d', '--artifact-root', 'artifacts', ...args],
    { cwd: dir },
  );
}

describe('a knob from the knob table', () => {
  it('--early_stopping_patience is recorded as given, in the resolved config and in the legacy dictionary', () => {
    const r = train(['--dose', '1000', '--view', 'baseline', '--early_stopping_patience', '7', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = TrainingManifest.parse(
      JSON.parse(readFileSync(join(roots.artifactRoot, 'training_manifest.json'), 'utf8')),
    );
    expect(m.knobs.early_stopping_patience).toBe(7);
    expect(m.jobs[0].config?.training.early_stopping_patience).toBe(7);
    expect(m.jobs[0].config?.legacy.early_stopping_patience).toBe(7);
  });

  it('a refused value names the flag and the valid range in one line', () => {
    const r = train(['--early-stopping-patience', '-1', '--dry-run']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "error: option '--early-stopping-patience <epochs>' argument '-1' is invalid. expected an integer in [0, 10000], got '-1'",
    );
  });

  it('--help lists it with its help text', () => {
    const r = runCliSync(['train', '--help'], { cwd: dir });
    expect(r.stdout).toMatch(/--early-stopping-patience <epochs>\s+epochs without a better monitored loss/);
  });
});
