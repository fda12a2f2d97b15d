import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attr, dropUnusedMaxPoolIndices, node, onnx, serializeModel, tensor, valueInfo } from './proto';

describe('ONNX graphs built in TypeScript', () => {
  it('MatMul + Add + ReduceSum runs on the CPU provider and gives the hand-computed numbers', async () => {
    // y = sum_j (x @ W + b)[i, j] over axis 1, keepdims 0
    const bytes = serializeModel({
      nodes: [
        node('MatMul', ['x', 'W'], ['xw']),
        node('Add', ['xw', 'b'], ['z']),
        node('ReduceSum', ['z', 'axes'], ['y'], [{ name: 'keepdims', type: 2, i: 0 }]),
      ],
      inputs: [valueInfo('x', 'float32', [2, 3])],
      outputs: [valueInfo('y', 'float32', [2]), valueInfo('z', 'float32', [2, 2])],
      initializers: [
        tensor('W', 'float32', [3, 2], [1, 2, 3, 4, 5, 6]),
        tensor('b', 'float32', [2], [0.5, -1]),
        tensor('axes', 'int64', [1], [1]),
      ],
    });
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
    const x = new ort.Tensor('float32', Float32Array.from([1, 0, -1, 2, 1, 0]), [2, 3]);
    const out = await session.run({ x });
    // Row 1: [1,0,-1]·W = [1-5, 2-6] = [-4, -4]; +b = [-3.5, -5]; sum = -8.5
    // Row 2: [2,1,0]·W = [2+3, 4+4] = [5, 8]; +b = [5.5, 7]; sum = 12.5
    expect(Array.from(out.z.data as Float32Array)).toEqual([-3.5, -5, 5.5, 7]);
    expect(Array.from(out.y.data as Float32Array)).toEqual([-8.5, 12.5]);
    expect(out.y.dims).toEqual([2]);
    await session.release();
  });
});

describe('dropUnusedMaxPoolIndices', () => {
  it('removes an unread MaxPool Indices output (older model.onnx files) and keeps a read one', async () => {
    const pool = (outputs: string[]) =>
      node('MaxPool', ['x'], outputs, [attr('kernel_shape', [2, 2], 'ints'), attr('strides', [2, 2], 'ints')]);
    const old = serializeModel({
      nodes: [pool(['y', 'idx'])],
      inputs: [valueInfo('x', 'float32', [1, 1, 4, 4])],
      outputs: [valueInfo('y', 'float32', [1, 1, 2, 2])],
    });
    const fixed = onnx.ModelProto.decode(dropUnusedMaxPoolIndices(old));
    expect(fixed.graph?.node?.[0].output).toEqual(['y']);
    const s = await ort.InferenceSession.create(dropUnusedMaxPoolIndices(old));
    const out = await s.run({
      x: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 16 }, (_, i) => i),
        [1, 1, 4, 4],
      ),
    });
    expect(Array.from(out.y.data as Float32Array)).toEqual([5, 7, 13, 15]);
    await s.release();
    const kept = serializeModel({
      nodes: [pool(['y', 'idx'])],
      inputs: [valueInfo('x', 'float32', [1, 1, 4, 4])],
      outputs: [valueInfo('idx', 'int64', [1, 1, 2, 2])],
    });
    expect(dropUnusedMaxPoolIndices(kept)).toBe(kept);
  });
});
