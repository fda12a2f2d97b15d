/** File-level DATA-001 validation: reads an NPZ and reports every contract issue. */
import { isStudyError } from '../../shared/errors';
import { type ContractIssue, type ContractOptions, checkContract } from './contract';
import { readStudyNpz } from './study-file';

export interface FileReport {
  file: string;
  ok: boolean;
  /** patterns and patch side, when the diffraction key could be read */
  M?: number;
  N?: number;
  keys: string[];
  errors: ContractIssue[];
  warnings: ContractIssue[];
}

export async function validateStudyFile(file: string, options: ContractOptions = {}): Promise<FileReport> {
  try {
    const loaded = await readStudyNpz(file);
    const issues = checkContract({ file, ...loaded }, options);
    const d = loaded.arrays.diffraction;
    const errors = issues.filter((i) => i.severity === 'error');
    return {
      file,
      ok: errors.length === 0,
      M: d?.shape.length === 3 ? d.shape[0] : undefined,
      N: d?.shape.length === 3 ? d.shape[1] : undefined,
      keys: loaded.keys.map((k) => k.key),
      errors,
      warnings: issues.filter((i) => i.severity === 'warning'),
    };
  } catch (e) {
    if (!isStudyError(e)) throw e;
    const issue: ContractIssue = {
      rule: 'unreadable',
      severity: 'error',
      file,
      key: e.details.key,
      message: e.message.startsWith(file) ? e.message : `${file}: ${e.message}`,
      found: e.details.found,
      expected: e.details.expected,
    };
    return { file, ok: false, keys: [], errors: [issue], warnings: [] };
  }
}
