/**
 * Entry of the device bundle (`run.sh` runs it with the bundled Node):
 *   checks.js [--accelerator auto|cpu|webgpu|cuda] [--quick] [--profile] [--speed] [--out DIR] [--threads N]
 *   checks.js --adapter   (the provider probe: works, software adapter or not, and why)
 * Writes DIR/gpu-checks.json and prints a readable log.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { probeProviders, vulkanDrivers } from '../nn/providers';
import { runChecks } from './checks';
import { summarize } from './summary';
import type { Accelerator } from '../../shared/knobs';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The provider probe (a training step of the model's op set) and the Vulkan drivers seen. */
async function adapterProbe(provider: string): Promise<void> {
  for (const d of vulkanDrivers())
    console.log(`vulkan driver: ${d.library} (${d.software ? 'software' : 'hardware'}) ${d.manifest}`);
  const [p] = await probeProviders({ providers: [provider as 'webgpu'] });
  console.log(
    `adapter probe: ${provider} ${p.available ? (p.software ? 'works on a software adapter' : 'works') : 'unavailable'}: ${p.detail}`,
  );
}

async function main(): Promise<void> {
  const accelerator = arg('--accelerator', 'auto') as Accelerator;
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
    profile: process.argv.includes('--profile'),
    speed: process.argv.includes('--speed'),
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
