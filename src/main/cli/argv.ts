/**
 * Every multi-word flag accepts hyphen and underscore spellings (`--max_epochs` ≡
 * `--max-epochs`), so the original study's recorded commands run unchanged. We rewrite the
 * flag names before commander sees them; values are never touched.
 */
export function normalizeFlagSpelling(argv: readonly string[]): string[] {
  const out: string[] = [];
  let passthrough = false;
  for (const arg of argv) {
    if (passthrough || arg === '--') {
      passthrough = true;
      out.push(arg);
      continue;
    }
    const m = /^--([A-Za-z0-9][A-Za-z0-9_-]*)(=.*)?$/s.exec(arg);
    out.push(m ? `--${m[1].replaceAll('_', '-')}${m[2] ?? ''}` : arg);
  }
  return out;
}
