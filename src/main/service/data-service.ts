/**
 * The data module behind WorkbenchApi: the "Create demo study" button. A folder that
 * already holds Phase C data is opened as it is, never overwritten.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EventName, EventPayload } from '../../shared/api';
import type { CreateDemoStudyOutput } from '../../shared/data-api';
import { StudyError } from '../../shared/errors';
import type { PresetName } from '../../shared/presets';
import { createDemoStudy } from '../data/demo';

export interface DataServiceOptions {
  workspace: string | null;
  /** Resolves a user-typed folder (confined to the workspace in browser mode). */
  resolveFolder(input: string): string;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
}

/** Hidden names are a killed run's staging folder or temp files, not data. */
function hasEntries(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((name) => !name.startsWith('.'));
}

export class DataService {
  private running: Promise<CreateDemoStudyOutput> | null = null;

  constructor(private readonly options: DataServiceOptions) {}

  /** The one "is there a study here?" rule: the folder's phase_c holds data (hidden names do not count). */
  hasStudy(folder: string): boolean {
    return hasEntries(join(folder, 'phase_c'));
  }

  createDemoStudy(input: { folder?: string; preset?: PresetName }): Promise<CreateDemoStudyOutput> {
    // One generation at a time: a second click joins the first.
    this.running ??= this.create(input).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async create(input: { folder?: string; preset?: PresetName }): Promise<CreateDemoStudyOutput> {
    const base = input.folder ?? this.options.workspace;
    if (!base) {
      throw new StudyError('BAD_INPUT', 'no folder given and no workspace configured for the demo study', {
        key: 'folder',
      });
    }
    const folder = this.options.resolveFolder(base);
    const roots = {
      phaseCRoot: join(folder, 'phase_c'),
      phaseDRoot: join(folder, 'phase_d'),
      artifactRoot: join(folder, 'artifacts'),
    };
    const t0 = performance.now();
    if (this.hasStudy(folder)) return { ...roots, created: false, seconds: 0 };
    await createDemoStudy(folder, (p) => this.options.emit('demoProgress', p), input.preset ?? 'demo');
    return { ...roots, created: true, seconds: (performance.now() - t0) / 1000 };
  }
}
