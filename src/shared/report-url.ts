/**
 * Where the local server serves an artifact root's report: `/reports/<root, base64url>/<file>`.
 * The root travels in the path (not the query) so the report's relative image links resolve
 * to the same route. Shared by the server and the workbench page (no Node APIs).
 */
export const REPORT_ROUTE = '/reports/';

export function encodeReportRoot(artifactRoot: string): string {
  const bytes = new TextEncoder().encode(artifactRoot);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

export function decodeReportRoot(encoded: string): string {
  const b64 = encoded.replaceAll('-', '+').replaceAll('_', '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The URL path of one report file (report.html by default), relative to the server's root. */
export function reportUrl(artifactRoot: string, name = 'report.html'): string {
  return `${REPORT_ROUTE}${encodeReportRoot(artifactRoot)}/${name}`;
}
