import { createRequire } from 'node:module';
import { packageJson } from './paths';

const require = createRequire(import.meta.url);

/** Versions read from the installed packages, not hard-coded. */
export function appVersion(): string {
  return packageJson().version;
}

export function onnxruntimeVersion(): string {
  const ort = require('onnxruntime-node') as { env: { versions: { node?: string; common?: string } } };
  return ort.env.versions.node ?? ort.env.versions.common ?? 'unknown';
}
