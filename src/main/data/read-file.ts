/**
 * Reading a file the user pointed at, with errors that name it: Node's own read errors
 * (EISDIR above all) carry no path, which left "EISDIR: illegal operation on a directory"
 * with nothing to act on.
 */
import { readFileSync } from 'node:fs';
import { StudyError } from '../../shared/errors';

export function readFileNamed(path: string): Buffer;
export function readFileNamed(path: string, encoding: 'utf8'): string;
export function readFileNamed(path: string, encoding?: 'utf8'): Buffer | string {
  try {
    return encoding ? readFileSync(path, encoding) : readFileSync(path);
  } catch (e) {
    throw readFailure(path, e);
  }
}

export function readFailure(path: string, e: unknown): StudyError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new StudyError('NOT_FOUND', `${path} does not exist`, { file: path });
  if (code === 'EISDIR')
    return new StudyError('BAD_INPUT', `${path} is a folder where a file was expected`, { file: path });
  const reason = e instanceof Error ? e.message : String(e);
  return new StudyError('BAD_INPUT', `cannot read ${path}: ${reason}`, { file: path });
}
