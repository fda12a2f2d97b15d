import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardIntensity } from '../data/physics';
import { loadStudyFile, type StudyFile } from '../data/study-file';
import { simulateTinyStudy, type TinyStudy, tinyConfig } from '../../../test/fixtures/trainer.fixture';
import { prepareTrainingData } from './dataset';
import { referenceNll } from './reference-nll';
import { resolveSettings } from './settings';

let study: TinyStudy;
let file: StudyFile;
beforeAll(async () => {
  study = await simulateTinyStudy({ dose: 1e4 });
  file = await loadStudyFile(study.train);
});
afterAll(() => rmSync(study.root, { recursive: true, force: true }));

const prepared = (gridsize: 1 | 2 = 1) =>
  prepareTrainingData(file, resolveSettings(tinyConfig(study, study.root, {}, { gridsize })));

describe('reference losses: mean-pattern predictor and true-object floor', () => {
  it('on noiseless counts the true object reaches the saturated NLL, and the mean pattern does not', () => {
    const data = prepared();
    const nn = data.N * data.N;
    const A = forwardIntensity(file.Y as NonNullable<StudyFile['Y']>, file.probeGuess).data as Float64Array;
    // replace the noisy counts by 3.7 × the noiseless far field: the floor must find the scale itself
    for (let i = 0; i < data.patterns.length; i++) data.patterns[i] = Math.sqrt(3.7 * A[i]);
    const r = referenceNll(data, file, 0, data.groups.count);
    expect(r.trueObject).not.toBeNull();
    expect(Math.abs((r.trueObject as number) - r.saturated)).toBeLessThan(1e-9 * Math.abs(r.saturated) + 1e-12);
    expect(r.meanPattern).toBeGreaterThan((r.trueObject as number) + 1e-3);
    expect(nn).toBe(32 * 32);
  });

  it('on noisy counts: saturated < true object < mean pattern, for gridsize 1 and 2', () => {
    for (const g of [1, 2] as const) {
      const data = prepared(g);
      const r = referenceNll(data, file, 0, data.groups.count);
      expect(r.saturated).toBeLessThan(r.trueObject as number);
      expect(r.trueObject as number).toBeLessThan(r.meanPattern);
    }
  });

  it('without ground-truth patches there is no floor, only the mean pattern and the saturated NLL', () => {
    const data = prepared();
    const r = referenceNll(data, { probeGuess: file.probeGuess }, 0, data.groups.count);
    expect(r.trueObject).toBeNull();
    expect(r.saturated).toBeLessThan(r.meanPattern);
  });
});
