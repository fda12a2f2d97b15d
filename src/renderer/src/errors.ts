/** One wording for errors shown where the user acted. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
