/** Terminal output helpers shared by the commands: one-line errors, JSON, exit codes. */
import { isStudyError } from '../../shared/errors';

export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message = '',
  ) {
    super(message);
  }
}

export function formatError(e: unknown): string {
  if (isStudyError(e)) return `error: ${e.toLine()}`;
  if (e instanceof Error) {
    // Node's errors from an open fd (EISDIR on read, ENOSPC on write) carry no path of their own
    const path = (e as NodeJS.ErrnoException).path;
    return `error: ${e.message}${path && !e.message.includes(path) ? ` (${path})` : ''}`;
  }
  return `error: ${String(e)}`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
