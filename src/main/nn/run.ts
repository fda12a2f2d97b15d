/**
 * Run a forward sub-graph directly: compile chosen outputs into a session whose inputs
 * are the graph inputs and parameters they depend on (parameters default to their
 * initial values). Used by gradient checks, physics tests and quick evaluations.
 */
import * as ort from 'onnxruntime-node';
import type { FloatArray, Graph, ParamTensor, Tensor } from './graph';
import { createSession } from './session';
import type { ExecutionProviderName } from '../../shared/api';

export type Feeds = Readonly<Record<string, FloatArray | Int32Array | BigInt64Array | ort.Tensor>>;

export interface CompiledGraph {
  readonly inputNames: readonly string[];
  run(feeds?: Feeds): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export async function compileGraph(
  graph: Graph,
  outputs: Readonly<Record<string, Tensor>>,
  options: { provider?: ExecutionProviderName; threads?: number; deterministic?: boolean; nchwc?: boolean } = {},
): Promise<CompiledGraph> {
  const bytes = graph.toModel({ outputs: { ...outputs } });
  const session = await createSession(bytes, { provider: options.provider ?? 'cpu', ...options });
  const byName = new Map<string, Tensor>([...graph.inputs, ...graph.params].map((t) => [t.name, t]));
  return {
    inputNames: session.inputNames,
    async run(feeds = {}) {
      const f: Record<string, ort.Tensor> = {};
      for (const name of session.inputNames) {
        const t = byName.get(name)!;
        const v = feeds[name] ?? (t.kind === 'param' ? (t as ParamTensor).init : undefined);
        if (v === undefined) throw new Error(`compileGraph: no value for input '${name}'`);
        f[name] = v instanceof ort.Tensor ? v : new ort.Tensor(t.dtype as 'float32', v as Float32Array, [...t.shape]);
      }
      return session.run(f);
    },
    release: () => session.release(),
  };
}
