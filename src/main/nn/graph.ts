/**
 * The graph builder: tensors with a dtype and a static shape known at build time, and the
 * list of op nodes that produce them (in creation order, which is a topological order).
 * Every node may carry its VJP rule (`vjp`), written next to its forward builder in the
 * ops-* modules; autodiff.ts walks the nodes backwards and calls those rules.
 *
 * A Graph is a mutable builder (state with a lifecycle): ops append nodes; `toModel`
 * serialises any sub-graph reachable from chosen outputs.
 */
import type onnxProto from 'onnx-proto';
import { type ElemType, node as protoNode, serializeModel, tensor as protoTensor, valueInfo } from './proto';

export type FloatType = 'float32' | 'float64';
export type Shape = readonly number[];
export type Attribute = onnxProto.onnx.IAttributeProto;
export type FloatArray = Float32Array | Float64Array;

/** How a tensor enters the graph: a fed input, a trainable parameter, a constant, or an op result. */
export type TensorKind = 'input' | 'param' | 'const' | 'value';

export interface Tensor {
  readonly graph: Graph;
  readonly name: string;
  readonly dtype: ElemType;
  readonly shape: Shape;
  readonly kind: TensorKind;
  /** The node that computes it (kind 'value' only). */
  readonly producer?: OpNode;
}

/**
 * A VJP rule: given the gradients of a node's outputs (undefined where no gradient flows)
 * and which inputs need one, return the gradient of each input (undefined where not needed).
 */
export type Vjp = (gOut: readonly (Tensor | undefined)[], needs: readonly boolean[]) => (Tensor | undefined)[];

export interface OpNode {
  readonly id: number;
  readonly opType: string;
  /** null = an omitted optional ONNX input (serialised as ''). */
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: readonly Attribute[];
  readonly vjp?: Vjp;
  /**
   * What `vjp` differentiates with respect to, when not the node's ONNX inputs: the last node
   * of a composite (a sub-graph that computes one op another way) stands for the whole of it,
   * so the gradient skips the composite's inner nodes and follows the op's own VJP rule.
   */
  readonly gradInputs?: readonly (Tensor | null)[];
}

export interface OutputSpec {
  dtype: ElemType;
  shape: Shape;
}

/** A parameter's initial value lives with the graph so a train step can be built from it alone. */
export interface ParamTensor extends Tensor {
  readonly kind: 'param';
  readonly init: FloatArray;
}

export type MaxPoolGrad = 'mask' | 'indices';

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The Conv weight-gradient forms (ops-nn.ts). */
export type ConvWeightGrad = 'taps' | 'taps-t' | 'unfold';

export class Graph {
  readonly nodes: OpNode[] = [];
  readonly inputs: Tensor[] = [];
  readonly params: ParamTensor[] = [];
  private readonly consts: { tensor: Tensor; proto: onnxProto.onnx.ITensorProto }[] = [];
  private readonly constCache = new Map<string, Tensor>();
  private readonly names = new Set<string>();
  private counter = 0;

  /**
   * MaxPool's VJP form, read when gradients are built (ops-nn.ts maxPool): 'mask' runs on
   * every provider, 'indices' needs MaxPool's Indices output (CPU provider only).
   */
  maxPoolGrad: MaxPoolGrad = 'mask';

  /**
   * The Conv weight gradient's form where a conv does not name one (ops-nn.ts conv), read
   * when gradients are built: 'taps' (per-tap products gy·x_tapᵀ, whose transposes the CPU
   * provider folds into its products), 'taps-t' (x_tap·gyᵀ with gy transposed once and one
   * batch sum per conv: half the kernels where each Transpose is a kernel, as on a GPU) or
   * 'unfold' (one unfolding Conv and one product per conv; its 9× patches tensor is slow to
   * allocate on a GPU at batch 64).
   */
  convWeightGrad: ConvWeightGrad = 'taps';

  /** `float` is the dtype of constants and inputs created without an explicit dtype. */
  constructor(readonly float: FloatType = 'float32') {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`graph: tensor name '${name}' is already used`);
    this.names.add(name);
    return name;
  }

  /** A unique internal name; user names never start with '_'. */
  fresh(prefix: string): string {
    let n: string;
    do n = `_${prefix}${this.counter++}`;
    while (this.names.has(n));
    return this.claim(n);
  }

  /** A fed input (a batch tensor, a learning rate …). */
  input(name: string, shape: Shape, dtype: ElemType = this.float): Tensor {
    const t: Tensor = { graph: this, name: this.claim(name), dtype, shape: [...shape], kind: 'input' };
    this.inputs.push(t);
    return t;
  }

  /** A trainable parameter with its initial value (length must match the shape). */
  param(name: string, shape: Shape, init: FloatArray | readonly number[]): ParamTensor {
    if (init.length !== numel(shape)) {
      throw new Error(`graph: parameter '${name}' has ${init.length} initial values for shape [${shape}]`);
    }
    // a copy: the caller's array (e.g. a kept initial kernel) is never aliased
    const data = this.float === 'float64' ? new Float64Array(init) : new Float32Array(init);
    const t: ParamTensor = {
      graph: this,
      name: this.claim(name),
      dtype: this.float,
      shape: [...shape],
      kind: 'param',
      init: data,
    };
    this.params.push(t);
    return t;
  }

  /** A constant (an initializer in the serialised model). Small constants are shared. */
  constant(data: ArrayLike<number>, shape: Shape, dtype: ElemType = this.float): Tensor {
    if (data.length !== numel(shape)) throw new Error(`graph: constant of ${data.length} values for shape [${shape}]`);
    const key = data.length <= 16 ? `${dtype}|${shape.join(',')}|${Array.from(data).join(',')}` : undefined;
    const hit = key ? this.constCache.get(key) : undefined;
    if (hit) return hit;
    const name = this.fresh('c');
    const t: Tensor = { graph: this, name, dtype, shape: [...shape], kind: 'const' };
    this.consts.push({ tensor: t, proto: protoTensor(name, dtype, shape, data) });
    if (key) this.constCache.set(key, t);
    return t;
  }

  scalar(value: number, dtype: ElemType = this.float): Tensor {
    return this.constant([value], [], dtype);
  }

  /** A 1-D int64 constant (axes, shapes, pads, slice bounds). */
  ints(values: readonly number[]): Tensor {
    return this.constant(values, [values.length], 'int64');
  }

  /** Append a node; returns its outputs. Ops call this, users call the ops. */
  op(
    opType: string,
    inputs: readonly (Tensor | null)[],
    outputs: readonly OutputSpec[],
    attrs: readonly Attribute[] = [],
    vjp?: Vjp,
    gradInputs?: readonly (Tensor | null)[],
  ): Tensor[] {
    for (const t of [...inputs, ...(gradInputs ?? [])]) {
      if (t && t.graph !== this) throw new Error(`graph: ${opType} mixes tensors of two graphs`);
    }
    const outs: Tensor[] = [];
    const n: OpNode = {
      id: this.nodes.length,
      opType,
      inputs: [...inputs],
      outputs: outs,
      attrs: [...attrs],
      vjp,
      ...(gradInputs ? { gradInputs: [...gradInputs] } : {}),
    };
    for (const o of outputs) {
      outs.push({
        graph: this,
        name: this.fresh(opType.toLowerCase()),
        dtype: o.dtype,
        shape: [...o.shape],
        kind: 'value',
        producer: n,
      });
    }
    this.nodes.push(n);
    return outs;
  }

  /** Nodes needed to compute `outputs`, in topological order. */
  nodesFor(outputs: readonly Tensor[]): OpNode[] {
    const needed = new Set<number>();
    const stack = outputs.map((t) => t.producer).filter((n): n is OpNode => !!n);
    while (stack.length) {
      const n = stack.pop()!;
      if (needed.has(n.id)) continue;
      needed.add(n.id);
      for (const t of n.inputs) if (t?.producer && !needed.has(t.producer.id)) stack.push(t.producer);
    }
    return this.nodes.filter((n) => needed.has(n.id));
  }

  /**
   * Serialise the sub-graph that computes `outputs` (user-facing output name → tensor).
   * Parameters become graph inputs, or initializers holding `paramValues` (default: their
   * initial values) when `paramsAsInitializers` is set (inference export).
   */
  toModel(spec: {
    outputs: Record<string, Tensor>;
    paramsAsInitializers?: boolean;
    paramValues?: ReadonlyMap<string, ArrayLike<number>>;
    name?: string;
    docString?: string;
  }): Uint8Array {
    const outEntries = Object.entries(spec.outputs);
    const nodes = this.nodesFor(outEntries.map(([, t]) => t));
    const used = new Set<string>();
    for (const n of nodes) for (const t of n.inputs) if (t) used.add(t.name);
    for (const [, t] of outEntries) used.add(t.name);

    // An output under another name than its tensor's: a tensor that a node of this model
    // makes takes the output's name (every reference renamed); inputs, parameters, constants
    // and a tensor output a second time go through an Identity (a copy on every run).
    const made = new Set<string>();
    for (const n of nodes) for (const t of n.outputs) made.add(t.name);
    const renamed = new Map<string, string>();
    const identities: [string, string][] = [];
    for (const [outName, t] of outEntries) {
      if (outName === t.name) continue;
      if (this.names.has(outName)) {
        throw new Error(`graph: output name '${outName}' is already the name of another tensor`);
      }
      if (made.has(t.name) && !renamed.has(t.name) && !outEntries.some(([o, u]) => u === t && o === t.name))
        renamed.set(t.name, outName);
      else identities.push([t.name, outName]);
    }
    const name = (t: Tensor | null | undefined) => (t ? (renamed.get(t.name) ?? t.name) : '');
    const protoNodes = nodes.map((n) =>
      protoNode(n.opType, n.inputs.map(name), n.outputs.map(name), [...n.attrs], `${n.opType}_${n.id}`),
    );
    for (const [from, to] of identities)
      protoNodes.push(protoNode('Identity', [renamed.get(from) ?? from], [to], [], `out_${to}`));
    const outputs: onnxProto.onnx.IValueInfoProto[] = [];
    for (const [outName, t] of outEntries) outputs.push(valueInfo(outName, t.dtype, t.shape));
    const inputs = this.inputs.filter((t) => used.has(t.name)).map((t) => valueInfo(t.name, t.dtype, t.shape));
    const initializers = this.consts.filter((c) => used.has(c.tensor.name)).map((c) => c.proto);
    for (const p of this.params) {
      if (!used.has(p.name)) continue;
      if (spec.paramsAsInitializers) {
        initializers.push(protoTensor(p.name, p.dtype, p.shape, spec.paramValues?.get(p.name) ?? p.init));
      } else inputs.push(valueInfo(p.name, p.dtype, p.shape));
    }
    // Conv weights computed in the graph (the input gradient's flipped kernel) carry their
    // shape, so the CPU session can rewrite those Convs into NCHWc form (nchwc.ts).
    const valueInfos = new Map<string, onnxProto.onnx.IValueInfoProto>();
    for (const n of nodes) {
      const w = n.opType === 'Conv' ? n.inputs[1] : undefined;
      if (w?.kind === 'value') valueInfos.set(name(w), valueInfo(name(w), w.dtype, w.shape));
    }
    return serializeModel({
      nodes: protoNodes,
      inputs,
      outputs,
      initializers,
      valueInfo: [...valueInfos.values()],
      name: spec.name,
      docString: spec.docString,
    });
  }
}
