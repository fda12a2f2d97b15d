/** WorkbenchApi methods and events of the data module (Phase C/D generation). */
import { z } from 'zod';
import { PresetName } from './presets';

export const CreateDemoStudyInput = z
  .object({
    /** Folder that receives phase_c/, phase_d/ and artifacts/; default the workspace. */
    folder: z.string().min(1).optional(),
    /** Study preset (budget): demo (seconds), trend (the dose trend on a 2-core CPU), paper. */
    preset: PresetName.optional(),
  })
  .strict();

export const CreateDemoStudyOutput = z.object({
  phaseCRoot: z.string(),
  phaseDRoot: z.string(),
  artifactRoot: z.string(),
  /** False when the folder already held a study: nothing was overwritten. */
  created: z.boolean(),
  seconds: z.number(),
});
export type CreateDemoStudyOutput = z.infer<typeof CreateDemoStudyOutput>;

export const DemoProgressEvent = z.object({
  phase: z.enum(['C', 'D']),
  stage: z.string(),
  done: z.number(),
  total: z.number(),
  message: z.string().optional(),
});
export type DemoProgressEvent = z.infer<typeof DemoProgressEvent>;

export const dataApiMethods = {
  createDemoStudy: { input: CreateDemoStudyInput, output: CreateDemoStudyOutput },
} as const;

export const dataApiEvents = {
  demoProgress: DemoProgressEvent,
} as const;
