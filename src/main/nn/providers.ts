/**
 * Execution-provider probing. Each provider is tried by running one training step of a
 * small graph built from the model's own op set (Conv with weight inputs, ReLU, MaxPool and
 * its gradient, nearest upsampling, the complex DFT, Adam) and comparing every output with
 * the CPU provider — in a child process, so a GPU driver that crashes takes down only the
 * probe, never the app or the server. What merely exists in the binary, or a session that
 * runs but computes something else, is not listed as available.
 *
 * WebGPU on Linux goes through Vulkan, where the adapter may be a CPU-type (software)
 * device: Mesa's lavapipe/llvmpipe or SwiftShader. onnxruntime does not report the adapter
 * Dawn chose, so the probe asks the Vulkan loader: it runs WebGPU a second time with only
 * the hardware drivers' manifests (VK_DRIVER_FILES / VK_ICD_FILENAMES). If WebGPU works only
 * with the software driver present, the adapter is software: `software: true`, still
 * available for an explicit `--accelerator webgpu`, never chosen by `auto`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionProviderName, ProviderProbe } from '../../shared/api';
import { cabs, dft2, polar } from './complex';
import { Graph } from './graph';
import { weightInitRng } from '../numeric/rng';
import { reduceMean, reduceSum, relu, sigmoid, square, sub } from './ops-basic';
import { conv, maxPool, upsampleNearest } from './ops-nn';
import { adam } from './optim';
import { buildTrainStep, stepNames } from './train-step';

const require = createRequire(import.meta.url);

/** Providers worth probing on this platform, in order of preference for `auto`. */
export function candidateProviders(platform = process.platform): ExecutionProviderName[] {
  if (platform === 'win32') return ['cuda', 'dml', 'webgpu', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  return ['cuda', 'webgpu', 'cpu'];
}

interface ProbeFeed {
  name: string;
  dims: number[];
  data: number[];
}

/** One Adam step of a small graph with the model's op set, and its feeds. */
export function probeModel(): { model: Uint8Array; feeds: ProbeFeed[]; ops: string } {
  const rng = weightInitRng(5);
  const u = (n: number, s = 0.5) => Array.from({ length: n }, () => rng.uniform(-s, s));
  const g = new Graph('float32');
  g.maxPoolGrad = 'mask';
  const x = g.input('x', [2, 2, 8, 8]);
  const w = g.param('w', [4, 2, 3, 3], u(72));
  const b = g.param('b', [4], u(4, 0.1));
  const ph = g.param('ph', [8, 8], u(64, 3));
  let h = relu(conv(x, w, b, { pads: 'same' }));
  h = upsampleNearest(maxPool(h), 2);
  const amp = sigmoid(reduceSum(h, [1]));
  const psi = dft2(polar(amp, ph), { shift: true });
  // Against a target (|DFT|² alone would not depend on the phase: Parseval).
  const loss = reduceMean(square(sub(cabs(psi, 1e-9), g.constant(u(128, 4), [2, 8, 8]))));
  const step = buildTrainStep({ loss, optimizer: adam({ epsilon: 1e-7 }) });
  const feeds: ProbeFeed[] = [{ name: 'x', dims: [2, 2, 8, 8], data: u(256, 1) }];
  for (const p of step.params) {
    feeds.push({ name: p.name, dims: [...p.shape], data: Array.from(p.init) });
    for (const s of step.optimizer.slots) {
      feeds.push({ name: stepNames.slot(s, p.name), dims: [...p.shape], data: new Array(p.init.length).fill(0) });
    }
  }
  feeds.push({ name: stepNames.lr, dims: [], data: [1e-3] });
  feeds.push({ name: stepNames.step, dims: [], data: [1] });
  for (const [k, v] of Object.entries(step.optimizer.hostScalars?.(1) ?? {})) {
    feeds.push({ name: stepNames.hostScalar(k), dims: [], data: [v] });
  }
  return { model: step.trainModel, feeds, ops: 'conv, max-pool gradient, upsampling, DFT, Adam' };
}

/** Source run by `node -e` in the child: one line of JSON per provider on stdout. */
export function probeScript(
  ortPath: string,
  providers: string[],
  modelB64: string,
  feeds: ProbeFeed[],
  ops: string,
): string {
  return `
const ort = require(${JSON.stringify(ortPath)});
const bytes = Buffer.from(${JSON.stringify(modelB64)}, 'base64');
const spec = ${JSON.stringify(feeds)};
const feeds = () => Object.fromEntries(spec.map((f) => [f.name, new ort.Tensor('float32', Float32Array.from(f.data), f.dims)]));
async function run(name) {
  const s = await ort.InferenceSession.create(bytes, { executionProviders: [name], logSeverityLevel: 4, graphOptimizationLevel: 'all' });
  try {
    const out = await s.run(feeds());
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data)]));
  } finally {
    await s.release();
  }
}
(async () => {
  let ref = null;
  for (const name of ${JSON.stringify(providers)}) {
    try {
      ref = ref || (await run('cpu'));
      const got = name === 'cpu' ? ref : await run(name);
      let worst = 0;
      let where = '';
      for (const [k, a] of Object.entries(ref)) {
        const b = got[k] || [];
        let scale = 1e-6;
        for (const v of a) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < a.length; i++) {
          const d = Math.abs(a[i] - b[i]) / scale;
          if (!(d <= worst)) { worst = d; where = k; }
        }
      }
      const ok = worst <= 1e-3;
      console.log(JSON.stringify({ name, available: ok, detail: ok
        ? ${JSON.stringify(`ran a training step of the model's op set (${ops}) and matched the CPU provider`)}
        : ${JSON.stringify("a training step of the model's op set gave wrong values: output ")} + where + ', relative error ' + worst }));
    } catch (e) {
      const msg = String((e && e.message) || e).split('\\n')[0].slice(0, 1000);
      console.log(JSON.stringify({ name, available: false, detail: msg }));
    }
  }
})().then(() => process.exit(0), () => process.exit(1));
`;
}

/**
 * onnxruntime's provider errors start with a source location and a C++ signature
 * ("/onnxruntime_src/…/webgpu_context.cc:136 onnxruntime::…::<lambda()> cond was false.
 * Failed to get a WebGPU adapter: …"); keep the sentence a person can act on.
 */
export function readableProviderError(detail: string): string {
  let d = detail.trim();
  const afterCondition = d.lastIndexOf(' was false. ');
  if (afterCondition >= 0) d = d.slice(afterCondition + ' was false. '.length);
  d = d.replace(/^\/onnxruntime_src\/\S+:\d+\s+/, '');
  return d.length > 300 ? `${d.slice(0, 297)}…` : d;
}

export interface ProbeOptions {
  providers?: ExecutionProviderName[];
  timeoutMs?: number;
}

export interface VulkanDriver {
  manifest: string;
  library: string;
  software: boolean;
}

const SOFTWARE_VULKAN = /lvp|lavapipe|llvmpipe|swiftshader/i;

/** The Vulkan driver manifests the loader would read (Linux), each classed hardware or software. */
export function vulkanDrivers(env: NodeJS.ProcessEnv = process.env): VulkanDriver[] {
  const explicit = env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES;
  let files: string[];
  if (explicit) files = explicit.split(':').filter(Boolean);
  else {
    const dataDirs = (env.XDG_DATA_DIRS ?? '/usr/local/share:/usr/share').split(':').filter(Boolean);
    const dirs = [
      join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'vulkan/icd.d'),
      '/etc/xdg/vulkan/icd.d',
      '/etc/vulkan/icd.d',
      join(env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'vulkan/icd.d'),
      ...dataDirs.map((d) => join(d, 'vulkan/icd.d')),
    ];
    files = [];
    for (const d of [...new Set(dirs)]) {
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d).sort()) if (f.endsWith('.json')) files.push(join(d, f));
    }
  }
  return files.flatMap((manifest) => {
    try {
      const j = JSON.parse(readFileSync(manifest, 'utf8')) as { ICD?: { library_path?: string } };
      const library = j.ICD?.library_path ?? '';
      return [{ manifest, library, software: SOFTWARE_VULKAN.test(library) || SOFTWARE_VULKAN.test(manifest) }];
    } catch {
      return [];
    }
  });
}

function runProbeChild(
  providers: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Map<string, ProviderProbe>> {
  const ortPath = require.resolve('onnxruntime-node');
  const pm = probeModel();
  const script = probeScript(ortPath, providers, Buffer.from(pm.model).toString('base64'), pm.feeds, pm.ops);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', script],
      {
        timeout: timeoutMs,
        // Electron's own binary acts as Node only when asked to.
        env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
        maxBuffer: 1 << 20,
      },
      (_err, out) => {
        const seen = new Map<string, ProviderProbe>();
        for (const line of String(out ?? '').split('\n')) {
          if (!line.trim().startsWith('{')) continue;
          try {
            const p = JSON.parse(line) as ProviderProbe;
            seen.set(p.name, p.available ? p : { ...p, detail: readableProviderError(p.detail) });
          } catch {
            // ignore non-JSON noise from native libraries
          }
        }
        resolve(seen);
      },
    );
  });
}

/**
 * Is the WebGPU adapter a software one? Linux only (elsewhere Dawn does not pick a CPU-type
 * adapter unless asked). Returns the software drivers' libraries when WebGPU needs them.
 */
async function softwareWebgpu(timeoutMs: number): Promise<string[] | null> {
  if (process.platform !== 'linux') return null;
  const drivers = vulkanDrivers();
  const soft = drivers.filter((d) => d.software);
  if (soft.length === 0) return null;
  const hard = drivers.filter((d) => !d.software);
  if (hard.length > 0) {
    const files = hard.map((d) => d.manifest).join(':');
    const env = { ...process.env, VK_DRIVER_FILES: files, VK_ICD_FILENAMES: files };
    const again = await runProbeChild(['webgpu'], env, timeoutMs);
    if (again.get('webgpu')?.available) return null;
  }
  return soft.map((d) => d.library);
}

export async function probeProviders(options: ProbeOptions = {}): Promise<ProviderProbe[]> {
  const providers = options.providers ?? candidateProviders();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const seen = await runProbeChild(providers, process.env, timeoutMs);
  const webgpu = seen.get('webgpu');
  if (webgpu?.available) {
    const soft = await softwareWebgpu(timeoutMs);
    if (soft) {
      seen.set('webgpu', {
        name: 'webgpu',
        available: true,
        software: true,
        detail: `software Vulkan (${soft.join(', ')}): slower than the CPU provider, so auto does not choose it; --accelerator webgpu uses it`,
      });
    }
  }
  return providers.map(
    (name) =>
      seen.get(name) ?? {
        name,
        available: false,
        detail: 'probe process crashed or timed out while trying this provider',
      },
  );
}
