/**
 * Execution-provider probing. Each provider is tried by creating a session on a tiny graph
 * and running it once — in a child process, so a GPU driver that crashes takes down only
 * the probe, never the app or the server. What merely exists in the binary is not listed
 * as available.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ExecutionProviderName, ProviderProbe } from '../../shared/api';
import { node, serializeModel, valueInfo } from '../nn/proto';

const require = createRequire(import.meta.url);

/** Providers worth probing on this platform, in order of preference for `auto`. */
export function candidateProviders(platform = process.platform): ExecutionProviderName[] {
  if (platform === 'win32') return ['cuda', 'dml', 'webgpu', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  return ['cuda', 'webgpu', 'cpu'];
}

function probeModelBase64(): string {
  const bytes = serializeModel({
    nodes: [node('Add', ['x', 'x'], ['y'])],
    inputs: [valueInfo('x', 'float32', [4])],
    outputs: [valueInfo('y', 'float32', [4])],
  });
  return Buffer.from(bytes).toString('base64');
}

/** Source run by `node -e` in the child: one line of JSON per provider on stdout. */
function probeScript(ortPath: string, providers: string[], modelB64: string): string {
  return `
const ort = require(${JSON.stringify(ortPath)});
const bytes = Buffer.from(${JSON.stringify(modelB64)}, 'base64');
(async () => {
  for (const name of ${JSON.stringify(providers)}) {
    try {
      const s = await ort.InferenceSession.create(bytes, { executionProviders: [name], logSeverityLevel: 4 });
      const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]);
      const out = await s.run({ x });
      const ok = Array.from(out.y.data).join(',') === '2,4,6,8';
      await s.release();
      console.log(JSON.stringify({ name, available: ok, detail: ok ? 'session created and ran a test graph' : 'wrong result from test graph' }));
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

export async function probeProviders(options: ProbeOptions = {}): Promise<ProviderProbe[]> {
  const providers = options.providers ?? candidateProviders();
  const ortPath = require.resolve('onnxruntime-node');
  const script = probeScript(ortPath, providers, probeModelBase64());
  const stdout = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      ['-e', script],
      {
        timeout: options.timeoutMs ?? 30_000,
        // Electron's own binary acts as Node only when asked to.
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        maxBuffer: 1 << 20,
      },
      (_err, out) => resolve(String(out ?? '')),
    );
  });
  const seen = new Map<string, ProviderProbe>();
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    try {
      const p = JSON.parse(line) as ProviderProbe;
      seen.set(p.name, p.available ? p : { ...p, detail: readableProviderError(p.detail) });
    } catch {
      // ignore non-JSON noise from native libraries
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
