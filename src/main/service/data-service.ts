/**
 * The data module behind WorkbenchApi and the data commands: the "Create demo study"
 * button and `serve --demo` (a folder that already holds Phase C data is opened as it is,
 * never overwritten — one "is there a study?" rule), and `simulate`, `overlap` and
 * `validate` (Phase C, Phase D and the DATA-001 check).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EventName, EventPayload } from '../../shared/api';
import type { CreateDemoStudyOutput } from '../../shared/data-api';
import { StudyError } from '../../shared/errors';
import { PRESET_FILE, type PresetName, presetRecord, type StudyPreset } from '../../shared/presets';
import { writeJsonAtomic } from '../data/atomic';
import { createDemoStudy } from '../data/demo';
import { buildOverlapViews, type OverlapProgress, type OverlapSettings, type PhaseDSummary } from '../data/overlap';
import { type PhaseCSummary, type SimulationProgress, type SimulationSettings, simulatePhaseC } from '../data/simulate';
import { isHiddenBelow } from '../data/staging';
import { type FileReport, validateStudyFile } from '../data/validate';

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

  /** Phase C into `out`; a preset's budget is recorded beside the data for `train` to read back. */
  async simulate(input: {
    out: string;
    settings: Partial<SimulationSettings>;
    preset?: StudyPreset | null;
    onProgress?: (p: SimulationProgress) => void;
  }): Promise<PhaseCSummary> {
    const summary = await simulatePhaseC(input.out, input.settings, input.onProgress);
    if (input.preset) await writeJsonAtomic(resolve(input.out, PRESET_FILE), presetRecord(input.preset));
    return summary;
  }

  /** Phase D: the overlap views of each dose of a Phase C root, written under `out`. */
  overlap(input: {
    phaseCRoot: string;
    out: string;
    settings: Partial<OverlapSettings>;
    onProgress?: (p: OverlapProgress) => void;
  }): Promise<PhaseDSummary> {
    return buildOverlapViews(input.phaseCRoot, input.out, input.settings, input.onProgress);
  }

  /**
   * The DATA-001 check of files and folders. A folder stands for the .npz files below it,
   * sorted, hidden names skipped (staging folders and temp files of a run in progress or
   * killed); a folder with none is a failure of its own: "nothing to check" never reads as "all pass".
   */
  async validate(input: {
    paths: string[];
    gridsize?: number;
    neighborCount?: number;
    physicsCheck?: boolean;
  }): Promise<FileReport[]> {
    const reports: FileReport[] = [];
    for (const item of expandFolders(input.paths))
      reports.push(
        'emptyFolder' in item
          ? emptyFolderReport(item.emptyFolder)
          : await validateStudyFile(item.file, {
              gridsize: input.gridsize,
              neighborCount: input.neighborCount,
              physicsCheck: input.physicsCheck,
            }),
      );
    return reports;
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

type Item = { file: string } | { emptyFolder: string };

function expandFolders(paths: string[]): Item[] {
  return paths.flatMap((p): Item[] => {
    let folder = false;
    try {
      folder = statSync(p).isDirectory();
    } catch {
      return [{ file: p }]; // reported as unreadable
    }
    if (!folder) return [{ file: p }];
    const found = readdirSync(p, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.npz') && !isHiddenBelow(p, join(p, f)))
      .sort()
      .map((f) => ({ file: join(p, f) }));
    return found.length ? found : [{ emptyFolder: p }];
  });
}

function emptyFolderReport(folder: string): FileReport {
  const message = `${folder}: no .npz files in this folder (nothing to validate)`;
  return {
    file: folder,
    ok: false,
    keys: [],
    errors: [{ rule: 'empty', severity: 'error', file: folder, message, expected: 'at least one .npz file' }],
    warnings: [],
  };
}
