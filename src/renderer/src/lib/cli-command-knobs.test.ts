import { describe, expect, it } from 'vitest';
import { defaultKnobValues } from '../../../shared/knobs';
import { trainCommand } from './cli-command';

const job = { dose: 1000, view: 'baseline', gridsize: 1 };
const roots = { phaseC: '/w/phase_c', phaseD: '/w/phase_d', artifact: '/w/artifacts' };

describe('the terminal command carries every knob of the table', () => {
  it('a knob set in the Run panel becomes its train flag; blanks and auto are left out', () => {
    const knobs = { ...defaultKnobValues(), max_epochs: 4, early_stopping_patience: 0, seed: 9 };
    expect(trainCommand(roots, [job], [job], knobs, false)).toBe(
      'ptycho-study train --phase-c-root /w/phase_c --phase-d-root /w/phase_d --artifact-root /w/artifacts --dose 1000 --view baseline --max-epochs 4 --early-stopping-patience 0 --seed 9',
    );
  });
});
