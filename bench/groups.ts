/** Registry of bench groups; each module under bench/ adds its own entry here. */
import { classicalBench } from './classical';
import { dataBench } from './data';
import { poolGradBench, webgpuBench } from './gpu';
import { pinnBench, qualityBench } from './pinn';
import { studyBench } from './study';
import type { BenchGroup } from './types';
import { uiBench } from './ui';
import { nnGroup } from './nn';

export const groups: BenchGroup[] = [
  uiBench,
  nnGroup,
  pinnBench,
  qualityBench,
  dataBench,
  poolGradBench,
  webgpuBench,
  classicalBench,
  studyBench,
];
