/**
 * The demo study: a small but complete Phase C + D (a 288-px object, 384 positions per dose,
 * the three doses, N = 64) written in seconds into `<workspace>/phase_c` and
 * `<workspace>/phase_d`. The workbench's "Create demo study" and `serve --demo` call it.
 */
import { join, resolve } from 'node:path';
import { buildOverlapViews, type OverlapProgress, type PhaseDSummary } from './overlap';
import { PRESET_FILE, type PresetName, presetRecord, STUDY_PRESETS } from '../../shared/presets';
import { writeJsonAtomic } from './atomic';
import { DEFAULT_SIMULATION, type PhaseCSummary, type SimulationProgress, simulatePhaseC } from './simulate';

export interface DemoProgress {
  phase: 'C' | 'D';
  stage: SimulationProgress['stage'] | OverlapProgress['stage'];
  done: number;
  total: number;
  message?: string;
}

export interface DemoStudy {
  workspace: string;
  phaseCRoot: string;
  phaseDRoot: string;
  phaseC: PhaseCSummary;
  phaseD: PhaseDSummary;
}

/** The study of a preset (default the demo), its budget recorded in phase_c/ for train. */
export async function createDemoStudy(
  workspaceDir: string,
  onProgress?: (p: DemoProgress) => void,
  presetName: PresetName = 'demo',
): Promise<DemoStudy> {
  const workspace = resolve(workspaceDir);
  const phaseCRoot = join(workspace, 'phase_c');
  const phaseDRoot = join(workspace, 'phase_d');
  const preset = STUDY_PRESETS[presetName];
  const phaseC = await simulatePhaseC(phaseCRoot, { ...DEFAULT_SIMULATION, ...preset.simulation }, (p) =>
    onProgress?.({ phase: 'C', ...p }),
  );
  await writeJsonAtomic(join(phaseCRoot, PRESET_FILE), presetRecord(preset));
  const phaseD = await buildOverlapViews(phaseCRoot, phaseDRoot, {}, (p) => onProgress?.({ phase: 'D', ...p }));
  return { workspace, phaseCRoot, phaseDRoot, phaseC, phaseD };
}
