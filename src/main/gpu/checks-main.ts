/**
 * Entry of the device bundle (`run.sh` runs it with the bundled Node):
 *   checks.js [--accelerator auto|cpu|webgpu|cuda] [--quick] [--out DIR] [--threads N]
 *   checks.js --adapter   (creates one session with verbose logging, for the adapter name)
 * Writes DIR/gpu-checks.json and prints a readable log.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { node, serializeModel, valueInfo } from '../nn/proto';
import { runChecks } from './checks';
import { summarize } from './summary';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function adapterProbe(provider: string): Promise<void> {
  ort.env.logLevel = 'verbose';
  const bytes = serializeModel({
    nodes: [node('Add', ['x', 'x'], ['y'])],
    inputs: [valueInfo('x', 'float32', [4])],
    outputs: [valueInfo('y', 'float32', [4])],
  });
  const s = await ort.InferenceSession.create(bytes, {
    executionProviders: [provider],
    logSeverityLevel: 0,
    logVerbosityLevel: 1,
  });
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
  console.log(`adapter probe: ${provider} session ran, y = ${Array.from(out.y.data as Float32Array).join(',')}`);
}

async function main(): Promise<void> {
  const accelerator = arg('--accelerator', 'auto') as 'auto' | 'cpu' | 'webgpu' | 'cuda';
  if (process.argv.includes('--summarize')) {
    console.log(summarize(resolve(arg('--summarize', '.'))).text);
    return;
  }
  if (process.argv.includes('--adapter')) return adapterProbe(accelerator === 'auto' ? 'webgpu' : accelerator);
  const out = resolve(arg('--out', '.'));
  mkdirSync(out, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'ptycho-gpu-checks-'));
  const t0 = Date.now();
  const report = await runChecks({
    accelerator,
    quick: process.argv.includes('--quick'),
    workDir,
    threads: Number(arg('--threads', '2')),
    log: (m) => console.log(m),
  });
  const full = { ...report, seconds: (Date.now() - t0) / 1000, node: process.version, ort: ort.env.versions };
  writeFileSync(join(out, 'gpu-checks.json'), `${JSON.stringify(full, null, 2)}\n`);
  console.log(`wrote ${join(out, 'gpu-checks.json')}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${(e as Error).message ?? e}`);
    process.exit(1);
  },
);
