/**
 * Typed errors shared by every process. A StudyError carries a stable code plus the file,
 * key and value involved, so the CLI can print it in one line and the UI can show it where
 * the user acted.
 */
export type StudyErrorCode =
  | 'BAD_INPUT'
  | 'NOT_FOUND'
  | 'DATA_CONTRACT'
  | 'NPZ_FORMAT'
  | 'NO_MATCH'
  | 'PROVIDER_UNAVAILABLE'
  | 'PATH_OUTSIDE_WORKSPACE'
  | 'LOCKED'
  | 'RUNNER_MISSING'
  | 'TRAINING_FAILED'
  | 'CANCELLED'
  | 'WRITE_FAILED'
  | 'TOO_LARGE'
  | 'SLURM'
  | 'INTERNAL';

export interface StudyErrorDetails {
  file?: string;
  key?: string;
  found?: unknown;
  expected?: unknown;
  hint?: string;
}

export class StudyError extends Error {
  readonly code: StudyErrorCode;
  readonly details: StudyErrorDetails;

  constructor(code: StudyErrorCode, message: string, details: StudyErrorDetails = {}) {
    super(message);
    this.name = 'StudyError';
    this.code = code;
    this.details = details;
  }

  /** One line for terminals and logs: code, message and whatever context we have. */
  toLine(): string {
    const parts = [`${this.code}: ${this.message}`];
    const d = this.details;
    if (d.file) parts.push(`file=${d.file}`);
    if (d.key) parts.push(`key=${d.key}`);
    if (d.found !== undefined) parts.push(`found=${stringify(d.found)}`);
    if (d.expected !== undefined) parts.push(`expected=${stringify(d.expected)}`);
    if (d.hint) parts.push(`hint: ${d.hint}`);
    return parts.join(' | ');
  }
}

function stringify(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function isStudyError(e: unknown): e is StudyError {
  return e instanceof StudyError;
}

/** Plain-object form of any thrown value, safe to send over IPC / HTTP. */
export interface SerializedError {
  code: StudyErrorCode;
  message: string;
  details: StudyErrorDetails;
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof StudyError) return { code: e.code, message: e.message, details: e.details };
  const message = e instanceof Error ? e.message : String(e);
  return { code: 'INTERNAL', message, details: {} };
}
