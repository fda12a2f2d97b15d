/**
 * One small graph per VJP rule (the same forms the finite-difference tests check), used to
 * compare an accelerator against the CPU provider: forward values and every gradient.
 */
import type { Tensor } from '../nn/graph';
import * as nn from '../nn/index';

export interface OpCaseParam {
  name: string;
  shape: number[];
  range?: [number, number];
}

export interface OpCase {
  name: string;
  params: OpCaseParam[];
  build(p: Tensor[]): Tensor;
}

const P = (name: string, shape: number[], range?: [number, number]): OpCaseParam => ({ name, shape, range });

export const OP_CASES: readonly OpCase[] = [
  {
    name: 'add/sub/mul/div (broadcast)',
    params: [P('a', [2, 3, 4]), P('b', [3, 1]), P('c', [4], [0.5, 2])],
    build: ([a, b, c]) => nn.div(nn.mul(nn.sub(nn.add(a, b), c), b), c),
  },
  {
    name: 'pow',
    params: [P('a', [3, 2], [0.5, 2]), P('e', [2], [-1, 2])],
    build: ([a, e]) => nn.add(nn.pow(a, e), nn.pow(a, 3)),
  },
  {
    name: 'neg/abs/sqrt/exp/log',
    params: [P('x', [7], [0.2, 2])],
    build: ([x]) => nn.add(nn.add(nn.neg(nn.exp(x)), nn.sqrt(x)), nn.mul(nn.log(x), nn.abs(nn.sub(x, 1.1)))),
  },
  { name: 'sin/cos/square', params: [P('x', [6], [-3, 3])], build: ([x]) => nn.mul(nn.sin(x), nn.square(nn.cos(x))) },
  {
    name: 'relu/sigmoid/tanh/softplus/silu',
    params: [P('x', [8], [-2, 2])],
    build: ([x]) => nn.add(nn.add(nn.relu(x), nn.sigmoid(x)), nn.add(nn.tanh(x), nn.add(nn.softplus(x), nn.silu(x)))),
  },
  {
    name: 'where/greater',
    params: [P('a', [2, 3]), P('b', [3])],
    build: ([a, b]) => nn.where(nn.greater(a, 0), nn.mul(a, a), b),
  },
  {
    name: 'reduceSum/reduceMean',
    params: [P('x', [2, 3, 4])],
    build: ([x]) => nn.add(nn.reduceSum(nn.mul(x, x), [1]), nn.reduceMean(nn.exp(x), [-2], false)),
  },
  { name: 'matmul (batched)', params: [P('a', [2, 3, 4, 5]), P('b', [3, 5, 2])], build: ([a, b]) => nn.matmul(a, b) },
  {
    name: 'gemm',
    params: [P('a', [4, 3]), P('b', [2, 4]), P('c', [2])],
    build: ([a, b, c]) => nn.gemm(a, b, c, { transA: true, transB: true, alpha: 0.7, beta: 1.3 }),
  },
  { name: 'maxPool', params: [P('x', [2, 3, 6, 6])], build: ([x]) => nn.maxPool(x) },
  {
    name: 'reshape/transpose/unsqueeze/squeeze/expand',
    params: [P('x', [2, 3, 4]), P('y', [3, 1])],
    build: ([x, y]) =>
      nn.add(
        nn.squeeze(nn.unsqueeze(nn.reshape(nn.transpose(x, [2, 0, 1]), [4, 6]), [0]), [0]),
        nn.reshape(nn.expand(y, [2, 3, 4]), [4, 6]),
      ),
  },
  { name: 'slice/pad', params: [P('x', [3, 5])], build: ([x]) => nn.pad(nn.slice(x, [1, 0], [3, -1]), [1, 0, 0, 2]) },
  { name: 'flip', params: [P('x', [3, 5])], build: ([x]) => nn.mul(nn.flip(x, [1]), nn.flip(x, [0, 1])) },
  { name: 'concat', params: [P('x', [2, 3]), P('y', [2, 4])], build: ([x, y]) => nn.concat([x, y, x], 1) },
  {
    name: 'split',
    params: [P('x', [2, 7])],
    build: ([x]) => {
      const [a, , c] = nn.split(x, [2, 3, 2], 1);
      return nn.mul(a, c);
    },
  },
  {
    name: 'complex: polar/cmul/dft2/cabs',
    params: [P('ar', [1, 8, 8]), P('ai', [1, 8, 8]), P('ph', [8, 8])],
    build: ([ar, ai, ph]) => {
      const obj = nn.polar(nn.sigmoid(ar), ph);
      const psi = nn.cmul(obj, { re: ai, im: nn.mul(ai, 0.5) });
      return nn.cabs(nn.dft2(psi, { shift: true }), 1e-9);
    },
  },
  {
    name: 'conv (same, bias)',
    params: [P('x', [2, 3, 8, 8]), P('w', [4, 3, 3, 3]), P('b', [4])],
    build: ([x, w, b]) => nn.conv(x, w, b, { pads: 'same' }),
  },
  {
    name: 'conv (stride 2)',
    params: [P('x', [2, 2, 7, 7]), P('w', [3, 2, 3, 3])],
    build: ([x, w]) => nn.conv(x, w, undefined, { pads: [1, 1, 1, 1], strides: [2, 2] }),
  },
  { name: 'upsampleNearest', params: [P('x', [2, 3, 3, 4])], build: ([x]) => nn.upsampleNearest(x, 2) },
];
