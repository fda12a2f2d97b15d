/**
 * The demo study: a small but complete Phase C + D (a 288-px object, 384 positions per dose,
 * the three doses, N = 64) written in seconds into `<workspace>/phase_c` and
 * `<workspace>/phase_d`. The workbench's "Create demo study" and `serve --demo` call it.
 */
import { join, resolve } from 'node:path';
import { buildOverlapViews, type OverlapProgress, type PhaseDSummary } from './overlap';
import { DEMO_SIMULATION, type PhaseCSummary, type SimulationProgress, simulatePhaseC } from './simulate';

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

export async function createDemoStudy(
  workspaceDir: string,
  onProgress?: (p: DemoProgress) => void,
): Promise<DemoStudy> {
  const workspace = resolve(workspaceDir);
  const phaseCRoot = join(workspace, 'phase_c');
  const phaseDRoot = join(workspace, 'phase_d');
  const phaseC = await simulatePhaseC(phaseCRoot, DEMO_SIMULATION, (p) => onProgress?.({ phase: 'C', ...p }));
  const phaseD = await buildOverlapViews(phaseCRoot, phaseDRoot, {}, (p) => onProgress?.({ phase: 'D', ...p }));
  return { workspace, phaseCRoot, phaseDRoot, phaseC, phaseD };
}
