/**
 * Reverse-mode autodiff over the builder's nodes. Only nodes that both depend on a
 * requested tensor and lead to the loss are differentiated; fan-out gradients are summed.
 * The gradient nodes are appended to the same graph, so one model can hold the forward
 * pass, the backward pass and the optimizer update.
 */
import type { OpNode, Tensor } from './graph';
import { expand } from './ops-shape';

/** Gradients of the scalar (or seeded) `loss` with respect to each of `wrt`. */
export function gradients(loss: Tensor, wrt: readonly Tensor[], seed?: Tensor): Tensor[] {
  const g = loss.graph;
  if (!seed && loss.shape.length !== 0 && loss.shape.some((d) => d !== 1)) {
    throw new Error(`gradients: loss of shape [${loss.shape}] is not a scalar; pass a seed`);
  }
  const end = loss.producer ? loss.producer.id + 1 : 0;
  const nodes: OpNode[] = g.nodes.slice(0, end);

  // Forward: which tensors depend on a requested one.
  // A composite's last node differentiates with respect to the composite's inputs.
  const ins = (n: OpNode) => n.gradInputs ?? n.inputs;
  const dependent = new Set<string>(wrt.map((t) => t.name));
  for (const n of nodes) {
    if (ins(n).some((t) => t && dependent.has(t.name))) for (const o of n.outputs) dependent.add(o.name);
  }
  // Backward: which tensors the loss depends on (a composite's inner nodes are not on it).
  const onPath = new Set<string>([loss.name]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (n.outputs.some((o) => onPath.has(o.name))) for (const t of ins(n)) if (t) onPath.add(t.name);
  }

  const pending = new Map<string, Tensor[]>();
  const push = (t: Tensor, gt: Tensor) => {
    const list = pending.get(t.name);
    if (list) list.push(gt);
    else pending.set(t.name, [gt]);
  };
  const total = (t: Tensor): Tensor | undefined => {
    const list = pending.get(t.name);
    if (!list || list.length === 0) return undefined;
    if (list.length === 1) return list[0];
    // Pairwise Add rather than ONNX Sum: the WebGPU provider has no Sum kernel.
    let sum = list[0];
    for (let k = 1; k < list.length; k++) sum = g.op('Add', [sum, list[k]], [{ dtype: t.dtype, shape: t.shape }])[0];
    pending.set(t.name, [sum]);
    return sum;
  };
  push(loss, seed ?? expand(g.scalar(1, loss.dtype), loss.shape));

  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!n.outputs.some((o) => dependent.has(o.name) && onPath.has(o.name))) continue;
    const gOut = n.outputs.map(total);
    if (gOut.every((t) => !t)) continue;
    if (!n.vjp) throw new Error(`gradients: no VJP rule for ${n.opType} (node ${n.id})`);
    const needs = ins(n).map((t) => !!t && dependent.has(t.name) && onPath.has(t.name));
    const gIn = n.vjp(gOut, needs);
    ins(n).forEach((t, k) => {
      const gt = gIn[k];
      if (!t || !needs[k] || !gt) return;
      if (gt.shape.join() !== t.shape.join()) {
        throw new Error(`gradients: ${n.opType} VJP gave [${gt.shape}] for input [${t.shape}]`);
      }
      push(t, gt);
    });
  }
  return wrt.map((t) => total(t) ?? expand(g.scalar(0, t.dtype), t.shape));
}
