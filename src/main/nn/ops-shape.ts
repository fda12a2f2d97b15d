/**
 * Shape ops (Reshape, Transpose, Slice, Pad, Concat, Split, Expand, Unsqueeze, Squeeze),
 * each forward builder followed by its VJP rule. Shapes are computed here at build time.
 */
import { attr } from './proto';
import { type Shape, type Tensor, numel, sameShape } from './graph';

function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Reshape; one -1 is inferred. VJP: reshape back. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const out = shape.map((d) => (d === -1 ? numel(x.shape) / known : d));
  if (numel(out) !== numel(x.shape)) throw new Error(`reshape: [${x.shape}] cannot become [${shape}]`);
  if (sameShape(out, x.shape)) return x;
  const g = x.graph;
  return g.op('Reshape', [x, g.ints(out)], [{ dtype: x.dtype, shape: out }], [], ([gy], [need]) => [
    need && gy ? reshape(gy, x.shape) : undefined,
  ])[0];
}

/** Transpose by `perm`. VJP: the inverse permutation. */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.shape.length) throw new Error(`transpose: perm [${perm}] for rank ${x.shape.length}`);
  if (perm.every((p, i) => p === i)) return x;
  const inv = perm.map((_, i) => perm.indexOf(i));
  return x.graph.op(
    'Transpose',
    [x],
    [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }],
    [attr('perm', [...perm], 'ints')],
    ([gy], [need]) => [need && gy ? transpose(gy, inv) : undefined],
  )[0];
}

/**
 * Slice along `axes` with numpy semantics for starts/ends (negative = from the end) and
 * steps ±1 or larger. VJP: Pad for step 1, a reversing slice for a full-length step −1.
 */
export function slice(
  x: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): Tensor {
  const rank = x.shape.length;
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, rank));
  const st = steps ?? ax.map(() => 1);
  const shape = [...x.shape];
  const lo: number[] = [];
  for (let i = 0; i < ax.length; i++) {
    const d = x.shape[ax[i]];
    const step = st[i];
    const clamp = (v: number, min: number, max: number) => Math.min(Math.max(v, min), max);
    let s = starts[i] < 0 ? starts[i] + d : starts[i];
    let e = ends[i] < 0 ? ends[i] + d : ends[i];
    if (step > 0) {
      s = clamp(s, 0, d);
      e = clamp(e, 0, d);
      shape[ax[i]] = Math.max(0, Math.ceil((e - s) / step));
    } else {
      s = clamp(s, -1, d - 1);
      e = clamp(e, -1, d - 1);
      if (ends[i] <= -d - 1 || ends[i] === Number.MIN_SAFE_INTEGER) e = -1;
      shape[ax[i]] = Math.max(0, Math.ceil((s - e) / -step));
    }
    lo.push(s);
  }
  const g = x.graph;
  // ONNX needs an int64 end "before the start" for a full reversal; INT64 min does that.
  const endsOnnx = ends.map((e, i) => (st[i] < 0 && e <= -x.shape[ax[i]] - 1 ? Number.MIN_SAFE_INTEGER : e));
  return g.op(
    'Slice',
    [x, g.ints(starts), g.ints(endsOnnx), g.ints(ax), g.ints(st)],
    [{ dtype: x.dtype, shape }],
    [],
    ([gy], [need]) => {
      if (!need || !gy) return [undefined];
      const pads = new Array<number>(2 * rank).fill(0);
      const rev: number[] = [];
      for (let i = 0; i < ax.length; i++) {
        const a = ax[i];
        if (st[i] === 1) {
          pads[a] = lo[i];
          pads[a + rank] = x.shape[a] - lo[i] - shape[a];
        } else if (st[i] === -1 && shape[a] === x.shape[a]) rev.push(a);
        else throw new Error(`slice: no gradient for step ${st[i]} over part of an axis`);
      }
      let gx = pad(gy, pads);
      if (rev.length) gx = flip(gx, rev);
      return [gx];
    },
  )[0];
}

/** Reverse the given axes (Slice with step −1). */
export function flip(x: Tensor, axes: readonly number[]): Tensor {
  return slice(
    x,
    axes.map(() => -1),
    axes.map((a) => -x.shape[normAxis(a, x.shape.length)] - 1),
    axes,
    axes.map(() => -1),
  );
}

/** Constant pad; `pads` = [begin per axis…, end per axis…] as in ONNX. VJP: slice back. */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  const rank = x.shape.length;
  if (pads.length !== 2 * rank) throw new Error(`pad: ${pads.length} pads for rank ${rank}`);
  if (pads.some((p) => p < 0)) throw new Error(`pad: negative pads [${pads}]; crop with slice`);
  if (pads.every((p) => p === 0)) return x;
  const g = x.graph;
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + rank]);
  const inputs = [x, g.ints(pads), value === 0 ? null : g.scalar(value, x.dtype)];
  return g.op('Pad', inputs, [{ dtype: x.dtype, shape }], [attr('mode', 'constant')], ([gy], [need]) => {
    if (!need || !gy) return [undefined];
    const axes = x.shape.map((_, i) => i);
    return [
      slice(
        gy,
        axes.map((a) => pads[a]),
        axes.map((a) => pads[a] + x.shape[a]),
        axes,
      ),
    ];
  })[0];
}

/** Concat along `axis`. VJP: slice each part back out. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 1) return xs[0];
  const rank = xs[0].shape.length;
  const a = normAxis(axis, rank);
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
  return xs[0].graph.op('Concat', xs, [{ dtype: xs[0].dtype, shape }], [attr('axis', a, 'int')], ([gy], needs) => {
    let off = 0;
    return xs.map((t, i) => {
      const start = off;
      off += t.shape[a];
      return needs[i] && gy ? slice(gy, [start], [start + t.shape[a]], [a]) : undefined;
    });
  })[0];
}

/** Split along `axis` into parts of the given sizes. VJP: concat (zeros where no gradient). */
export function split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const a = normAxis(axis, x.shape.length);
  if (sizes.reduce((s, v) => s + v, 0) !== x.shape[a]) throw new Error(`split: sizes [${sizes}] for dim ${x.shape[a]}`);
  const g = x.graph;
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    return { dtype: x.dtype, shape };
  });
  return g.op('Split', [x, g.ints(sizes)], outs, [attr('axis', a, 'int')], (gys, [need]) => {
    if (!need || gys.every((t) => !t)) return [undefined];
    const parts = gys.map((t, i) => t ?? zerosTensor(x, outs[i].shape));
    return [concat(parts, a)];
  });
}

/** A zeros tensor of `shape` in x's graph and dtype, made at run time (no big initializer). */
export function zerosTensor(like: Tensor, shape: Shape): Tensor {
  const g = like.graph;
  return expand(g.scalar(0, like.dtype), shape);
}

/** Broadcast x to `shape`. VJP: sum over the broadcast axes. */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const g = x.graph;
  return g.op('Expand', [x, g.ints(shape)], [{ dtype: x.dtype, shape }], [], ([gy], [need]) => [
    need && gy ? sumTo(gy, x.shape) : undefined,
  ])[0];
}

/** Insert size-1 axes (positions in the output). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const rank = x.shape.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank)));
  const shape: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(set.has(i) ? 1 : x.shape[j++]);
  return reshape(x, shape);
}

/** Remove size-1 axes (all of them when `axes` is omitted). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const set = new Set(
    (axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.shape.length)),
  );
  for (const a of set) if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} has size ${x.shape[a]}`);
  return reshape(
    x,
    x.shape.filter((_, i) => !set.has(i)),
  );
}

/** Sum `x` down to `shape` (numpy broadcasting in reverse): the VJP of every broadcast. */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < x.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && x.shape[i] !== 1)) axes.push(i);
  }
  const g = x.graph;
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const s = axes.length
    ? g.op('ReduceSum', [x, g.ints(axes)], [{ dtype: x.dtype, shape: kept }], [attr('keepdims', 1, 'int')])[0]
    : x;
  return reshape(s, shape);
}
