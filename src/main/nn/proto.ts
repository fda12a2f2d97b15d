/**
 * Thin typed helpers over the ONNX protobuf schema (onnx-proto). Everything that
 * serialises an ONNX model goes through here; the graph builder and autodiff sit on top.
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export const OPSET = 18;
export const IR_VERSION = 8;

export type ElemType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

export function elemTypeCode(t: ElemType): number {
  return ELEM[t];
}

export type AttrValue = number | string | number[] | onnxProto.onnx.ITensorProto | onnxProto.onnx.IGraphProto;

/** Build an AttributeProto; integers vs floats are chosen by `kind` where JS cannot tell. */
export function attr(
  name: string,
  value: AttrValue,
  kind?: 'int' | 'float' | 'ints' | 'floats',
): onnxProto.onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    const isInt = kind ? kind === 'int' : Number.isInteger(value);
    return isInt ? { name, type: A.INT, i: value } : { name, type: A.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    const isInt = kind ? kind === 'ints' : value.every(Number.isInteger);
    return isInt ? { name, type: A.INTS, ints: value } : { name, type: A.FLOATS, floats: value };
  }
  if ('node' in value) return { name, type: A.GRAPH, g: value as onnxProto.onnx.IGraphProto };
  return { name, type: A.TENSOR, t: value as onnxProto.onnx.ITensorProto };
}

export function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attributes: onnxProto.onnx.IAttributeProto[] = [],
  name?: string,
): onnxProto.onnx.INodeProto {
  return { opType, input: inputs, output: outputs, attribute: attributes, name: name ?? outputs[0] };
}

export function valueInfo(name: string, type: ElemType, shape: readonly number[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ELEM[type], shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** A float32 / int64 / float64 initializer or Constant value. */
export function tensor(
  name: string,
  type: ElemType,
  dims: readonly number[],
  data: ArrayLike<number> | readonly bigint[],
): onnxProto.onnx.ITensorProto {
  const t: onnxProto.onnx.ITensorProto = { name, dataType: ELEM[type], dims: [...dims] };
  if (type === 'float32') t.rawData = new Uint8Array(Float32Array.from(data as ArrayLike<number>).buffer);
  else if (type === 'float64') t.rawData = new Uint8Array(Float64Array.from(data as ArrayLike<number>).buffer);
  else if (type === 'int64') {
    const arr = BigInt64Array.from(Array.from(data as ArrayLike<number | bigint>, (v) => BigInt(v)));
    t.rawData = new Uint8Array(arr.buffer);
  } else if (type === 'int32') t.rawData = new Uint8Array(Int32Array.from(data as ArrayLike<number>).buffer);
  else t.rawData = Uint8Array.from(data as ArrayLike<number>, (v) => (v ? 1 : 0));
  return t;
}

export interface ModelSpec {
  nodes: onnxProto.onnx.INodeProto[];
  inputs: onnxProto.onnx.IValueInfoProto[];
  outputs: onnxProto.onnx.IValueInfoProto[];
  initializers?: onnxProto.onnx.ITensorProto[];
  /** Shapes of intermediate tensors that a later rewrite needs (e.g. Conv weights). */
  valueInfo?: onnxProto.onnx.IValueInfoProto[];
  name?: string;
  docString?: string;
}

/** Serialise a graph as an ONNX model (opset 18) ready for InferenceSession.create(bytes). */
export function serializeModel(spec: ModelSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'ptycho-study',
    opsetImport: [{ domain: '', version: OPSET }],
    docString: spec.docString ?? '',
    graph: {
      name: spec.name ?? 'graph',
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers ?? [],
      valueInfo: spec.valueInfo ?? [],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Drop MaxPool's `Indices` output where nothing reads it: model.onnx files exported before
 * the max-pool gradient stopped using it list it, and the WebGPU provider refuses to run a
 * MaxPool that has it. Returns the bytes unchanged when there is nothing to drop.
 */
export function dropUnusedMaxPoolIndices(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph;
  if (!g?.node?.some((n) => n.opType === 'MaxPool' && (n.output?.length ?? 0) > 1)) return bytes;
  const read = new Set<string>();
  for (const n of g.node) for (const i of n.input ?? []) read.add(i);
  for (const o of g.output ?? []) if (o.name) read.add(o.name);
  let changed = false;
  for (const n of g.node) {
    if (n.opType === 'MaxPool' && n.output && n.output.length > 1 && !read.has(n.output[1])) {
      n.output = [n.output[0]];
      changed = true;
    }
  }
  return changed ? onnx.ModelProto.encode(model).finish() : bytes;
}
