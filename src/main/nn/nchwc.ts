/**
 * NCHWc convolutions for the CPU provider. onnxruntime's fast blocked-layout convolution
 * kernels (domain com.microsoft.nchwc) are chosen by its own graph optimizer only when a
 * Conv's weight is a constant initializer, which a train step (weights fed as inputs, the
 * input gradient's flipped kernel computed in the graph) never has. This rewrite gives
 * them to every such Conv: the activations are reordered into channel blocks around the
 * Conv (ReorderInput / ReorderOutput), the weight into the OIHWBiBo layout inside the graph
 * each step (two ReorderInputs of a small tensor; the input gradient's flipped, transposed
 * kernel straight from the weight), and a Conv whose only reader is a Relu runs it as the
 * kernel's fused activation. Same products, same sums, in another order: results agree with
 * the plain Conv to float rounding.
 */
import * as ort from 'onnxruntime-node';
import type onnxProto from 'onnx-proto';
import { attr, onnx, tensor as protoTensor } from './proto';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/**
 * Bumped whenever the rewrite emits other nodes for the same model, so optimised graphs kept
 * on disk from an earlier rewrite (optimized-cache.ts) are not reused.
 */
export const NCHWC_REWRITE_VERSION = 3;

let blockProbe: Promise<number> | undefined;

/**
 * MLAS's NCHWc channel block on this CPU (16 with AVX-512F, 8 with AVX2), read from the
 * channel count ReorderInput gives four channels; 0 where the kernels are not built in.
 */
export function nchwcBlockSize(): Promise<number> {
  blockProbe ??= probeBlockSize();
  return blockProbe;
}

async function probeBlockSize(): Promise<number> {
  const F = onnx.TensorProto.DataType.FLOAT;
  const model = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [
        { domain: '', version: 18 },
        { domain: NCHWC_DOMAIN, version: 1 },
      ],
      graph: {
        name: 'nchwc_probe',
        node: [{ opType: 'ReorderInput', domain: NCHWC_DOMAIN, input: ['x'], output: ['y'], name: 'r' }],
        input: [
          {
            name: 'x',
            type: { tensorType: { elemType: F, shape: { dim: [1, 4, 1, 1].map((d) => ({ dimValue: d })) } } },
          },
        ],
        output: [{ name: 'y', type: { tensorType: { elemType: F } } }],
      },
    }),
  ).finish();
  try {
    const s = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], logSeverityLevel: 3 });
    const out = await s.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) });
    const block = Number(out.y.dims[1]);
    await s.release();
    return block > 1 ? block : 0;
  } catch {
    return 0;
  }
}

/**
 * Rewrite every float32 Conv whose weight is not an initializer, with group 1, its output
 * channels a multiple of `block` and its input channels a multiple of it or fewer (the
 * first layer's 1 or 4: NCHW input, as onnxruntime's own rewrite does), into NCHWc form.
 * Other Convs (the last layer's few outputs) stay as they are. Returns the bytes unchanged
 * when nothing qualifies.
 */
export function nchwcConvs(bytes: Uint8Array, block: number): Uint8Array {
  if (block <= 1) return bytes;
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph;
  if (!g?.node?.some((n) => n.opType === 'Conv' && !n.domain)) return bytes;
  const F = onnx.TensorProto.DataType.FLOAT;
  const shapes = new Map<string, number[]>();
  const note = (v: onnxProto.onnx.IValueInfoProto) => {
    const t = v.type?.tensorType;
    if (!v.name || t?.elemType !== F || !t.shape?.dim) return;
    shapes.set(
      v.name,
      t.shape.dim.map((d) => Number(d.dimValue ?? -1)),
    );
  };
  for (const v of g.input ?? []) note(v);
  for (const v of g.valueInfo ?? []) note(v);
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const readers = new Map<string, onnxProto.onnx.INodeProto[]>();
  for (const n of g.node) for (const i of n.input ?? []) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const producer = new Map<string, onnxProto.onnx.INodeProto>();
  for (const n of g.node) for (const o of n.output ?? []) producer.set(o, n);
  const ints = new Map<string, number[]>();
  for (const t of g.initializer ?? [])
    if (t.name && t.dataType === onnx.TensorProto.DataType.INT64) ints.set(t.name, int64s(t));
  const soleReader = (name: string) => !outputs.has(name) && readers.get(name)?.length === 1;
  /**
   * The input gradient's kernel, flip₂ₓ₃(Transpose(w, [1, 0, 2, 3])) (ops-nn.ts): returns w
   * and the two nodes when the Conv is their only reader, so the reorder can read w itself.
   */
  const flippedTranspose = (name: string) => {
    const sl = producer.get(name);
    if (sl?.opType !== 'Slice' || sl.domain || !soleReader(name)) return undefined;
    const [src, st, en, ax, sp] = (sl.input ?? []).map((i) => ints.get(i));
    const tr = producer.get(sl.input?.[0] ?? '');
    const perm = tr?.attribute?.find((a) => a.name === 'perm')?.ints?.map(Number);
    // A flip keeps the shape: the Conv's weight shape is the transposed tensor's.
    const dims = shapes.get(name);
    const full = (a: number, i: number) => st?.[i] === -1 && (en?.[i] ?? 0) <= -(dims?.[a] ?? 0) - 1 && sp?.[i] === -1;
    const flips =
      src === undefined &&
      dims?.length === 4 &&
      ax?.length === 2 &&
      ax[0] === 2 &&
      ax[1] === 3 &&
      full(2, 0) &&
      full(3, 1) &&
      tr?.opType === 'Transpose' &&
      !tr.domain &&
      perm?.join() === '1,0,2,3' &&
      soleReader(sl.input?.[0] ?? '');
    return flips && tr ? { w: tr.input?.[0] ?? '', nodes: [sl, tr] } : undefined;
  };
  const dead = new Set<onnxProto.onnx.INodeProto>();

  const dropped = new Set<onnxProto.onnx.INodeProto>();
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const extraInits: onnxProto.onnx.ITensorProto[] = [];
  const shapeConst = (dims: number[]): string => {
    const name = `_nchwc_shape_${dims.join('_')}`;
    if (!extraInits.some((t) => t.name === name)) extraInits.push(protoTensor(name, 'int64', [dims.length], dims));
    return name;
  };
  // NCHW tensor → its blocked twin, where a rewritten Conv produced it: a following NCHWc
  // Conv reads the twin instead of reordering the tensor again.
  const blocked = new Map<string, string>();
  let k = 0;
  for (const n of g.node) {
    if (dropped.has(n)) continue;
    const [x, w, b] = n.input ?? [];
    const ws = w ? shapes.get(w) : undefined;
    const group = n.attribute?.find((a) => a.name === 'group');
    const fits =
      n.opType === 'Conv' &&
      !n.domain &&
      x &&
      w &&
      !initializers.has(w) &&
      ws?.length === 4 &&
      ws.every((d) => d > 0) &&
      (!group || Number(group.i) === 1) &&
      ws[0] % block === 0 &&
      (ws[1] % block === 0 || ws[1] < block);
    if (!fits || !ws) {
      nodes.push(n);
      continue;
    }
    const [O, I, kh, kw] = ws;
    const id = `_nchwc${k++}`;
    // Fewer input channels than a block (the first layer's 1 or 4; the input gradient of a
    // conv with few outputs): MLAS reads the NCHW input as it is, with the weight in OIHWBo
    // (output channels blocked), as onnxruntime's own rewrite does for constant weights.
    const smallIn = I % block !== 0;
    const y = n.output?.[0] ?? '';
    // A Relu as the Conv's only reader becomes the kernel's fused activation.
    const only = readers.get(y);
    const relu =
      !outputs.has(y) && only?.length === 1 && only[0].opType === 'Relu' && !only[0].domain ? only[0] : undefined;
    if (relu) dropped.add(relu);
    const out = relu ? (relu.output?.[0] ?? y) : y;
    // OIHW → OIHWBiBo by two channel-block reorders (MLAS's vectorised ReorderInput, ~3×
    // faster than the equivalent 6-D Transpose): [O, I, kh, kw] → [O, I/b, kh, kw, b(i)],
    // then that as [O/b, b(o), I/b·kh·kw, b(i)] → [O/b, I/b·kh·kw, b(i), b(o)].
    const flipped = smallIn ? undefined : flippedTranspose(w);
    if (smallIn)
      nodes.push(
        {
          opType: 'Reshape',
          input: [w, shapeConst([O / block, block, I * kh * kw])],
          output: [`${id}_wo`],
          name: `${id}_wo`,
        },
        {
          opType: 'Transpose',
          input: [`${id}_wo`],
          output: [`${id}_wt`],
          name: `${id}_wt`,
          attribute: [attr('perm', [0, 2, 1], 'ints')],
        },
        { opType: 'Reshape', input: [`${id}_wt`, shapeConst([O, I, kh, kw])], output: [`${id}_w`], name: `${id}_w` },
      );
    else if (flipped) {
      // The flipped transpose of w0 [I, O, kh, kw] straight into OIHWBiBo: w0's input-channel
      // blocks by ReorderInput, [O/b, I/b, kh·kw, b(i'), b(o')] by one Transpose that moves
      // whole 16-float lanes, and the flip as a reversal of the kh·kw axis.
      for (const d of flipped.nodes) dead.add(d);
      nodes.push(
        { opType: 'ReorderInput', domain: NCHWC_DOMAIN, input: [flipped.w], output: [`${id}_wi`], name: `${id}_wi` },
        {
          opType: 'Reshape',
          input: [`${id}_wi`, shapeConst([I / block, block, O / block, kh * kw, block])],
          output: [`${id}_w5`],
          name: `${id}_w5`,
        },
        {
          opType: 'Transpose',
          input: [`${id}_w5`],
          output: [`${id}_wt`],
          name: `${id}_wt`,
          attribute: [attr('perm', [2, 0, 3, 1, 4], 'ints')],
        },
        {
          opType: 'Slice',
          input: [`${id}_wt`, shapeConst([-1]), shapeConst([-(kh * kw) - 1]), shapeConst([2]), shapeConst([-1])],
          output: [`${id}_wf`],
          name: `${id}_wf`,
        },
        { opType: 'Reshape', input: [`${id}_wf`, shapeConst([O, I, kh, kw])], output: [`${id}_w`], name: `${id}_w` },
      );
    } else
      nodes.push(
        { opType: 'ReorderInput', domain: NCHWC_DOMAIN, input: [w], output: [`${id}_wi`], name: `${id}_wi` },
        {
          opType: 'Reshape',
          input: [`${id}_wi`, shapeConst([O / block, block, (I / block) * kh * kw, block])],
          output: [`${id}_wo`],
          name: `${id}_wo`,
        },
        { opType: 'ReorderInput', domain: NCHWC_DOMAIN, input: [`${id}_wo`], output: [`${id}_wb`], name: `${id}_wb` },
        { opType: 'Reshape', input: [`${id}_wb`, shapeConst([O, I, kh, kw])], output: [`${id}_w`], name: `${id}_w` },
      );
    const twin = smallIn ? undefined : blocked.get(x);
    if (!twin && !smallIn)
      nodes.push({ opType: 'ReorderInput', domain: NCHWC_DOMAIN, input: [x], output: [`${id}_x`], name: `${id}_x` });
    const xb = smallIn ? x : (twin ?? `${id}_x`);
    blocked.set(out, `${id}_y`);
    nodes.push(
      {
        opType: 'Conv',
        domain: NCHWC_DOMAIN,
        input: b ? [xb, `${id}_w`, b] : [xb, `${id}_w`],
        output: [`${id}_y`],
        name: `${id}_conv`,
        attribute: [
          ...(n.attribute ?? []).filter((a) => a.name !== 'group'),
          ...(relu ? [attr('activation', 'Relu')] : []),
        ],
      },
      {
        opType: 'ReorderOutput',
        domain: NCHWC_DOMAIN,
        input: [`${id}_y`],
        output: [out],
        name: `${id}_out`,
        attribute: [attr('channels', O, 'int')],
      },
    );
  }
  if (k === 0) return bytes;
  g.node = nodes.filter((n) => !dead.has(n));
  g.initializer = [...(g.initializer ?? []), ...extraInits];
  model.opsetImport = [...(model.opsetImport ?? []), { domain: NCHWC_DOMAIN, version: 1 }];
  return onnx.ModelProto.encode(model).finish();
}

function int64s(t: onnxProto.onnx.ITensorProto): number[] {
  if (t.int64Data?.length) return t.int64Data.map(Number);
  const raw = t.rawData;
  if (!raw?.length) return [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}
