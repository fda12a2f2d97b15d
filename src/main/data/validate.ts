/**
 * File-level DATA-001 validation: reads an NPZ and reports every contract issue. Any failure
 * to read a file (a StudyError, or anything else: an entry too large, an I/O error) becomes
 * that file's report, so a batch always goes on to the next file.
 */
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
    const message = isStudyError(e) ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const issue: ContractIssue = {
      rule: 'unreadable',
      severity: 'error',
      file,
      key: isStudyError(e) ? e.details.key : undefined,
      message: message.includes(file) ? message : `${file}: ${message}`,
      found: isStudyError(e) ? e.details.found : undefined,
      expected: isStudyError(e) ? e.details.expected : undefined,
    };
    return { file, ok: false, keys: [], errors: [issue], warnings: [] };
  }
}
