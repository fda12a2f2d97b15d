/**
 * The conv stack the `nn` bench trains: the PtychoPINN encoder's shapes (N = 64,
 * C→64→64 pool 64→128→128 pool 128→256→256 pool) and one decoder head (256→128→128 up,
 * 128→64→64 up, conv 64→1), 3×3 'same' convs with ReLU, MSE to a target. The same net
 * is written in PyTorch in nn-torch.py.
 */
import * as nn from '../src/main/nn/index';

export interface ConvNetSpec {
  batch: number;
  n: number;
  channels: number;
  decoder: boolean;
  seed: number;
  /** Default Adam (Keras defaults). */
  optimizer?: nn.Optimizer;
  weightGrad?: 'taps' | 'unfold';
  /** MaxPool's VJP form: the provider's own, as the trainer picks it (default 'mask'). */
  maxPoolGrad?: nn.MaxPoolGrad;
}

export interface ConvNet {
  model: nn.TrainStepModel;
  /** FLOPs of one training step (forward + input and weight gradients of every conv). */
  trainFlops: number;
  outShape: number[];
}

export function buildConvNet(spec: ConvNetSpec): ConvNet {
  const g = new nn.Graph();
  if (spec.maxPoolGrad) g.maxPoolGrad = spec.maxPoolGrad;
  const rng = nn.createRng(spec.seed);
  const x = g.input('x', [spec.batch, spec.channels, spec.n, spec.n]);
  let flops = 0;
  let first = true;
  const conv3 = (name: string, h: nn.Tensor, cout: number, act = true) => {
    const cin = h.shape[1];
    const shape = [cout, cin, 3, 3];
    const w = g.param(`${name}.w`, shape, nn.glorotUniform(shape, rng));
    const b = g.param(`${name}.b`, [cout], nn.zeros([cout]));
    const y = nn.conv(h, w, b, { pads: 'same', weightGrad: spec.weightGrad });
    const f = 2 * spec.batch * y.shape[2] * y.shape[3] * cout * cin * 9;
    flops += f * (first ? 2 : 3); // the first conv needs no input gradient
    first = false;
    return act ? nn.relu(y) : y;
  };
  let h = x;
  for (const [i, c] of [64, 128, 256].entries()) {
    h = conv3(`enc${i}.a`, h, c);
    h = conv3(`enc${i}.b`, h, c);
    h = nn.maxPool(h);
  }
  if (spec.decoder) {
    for (const [i, c] of [128, 64].entries()) {
      h = conv3(`dec${i}.a`, h, c);
      h = conv3(`dec${i}.b`, h, c);
      h = nn.upsampleNearest(h, 2);
    }
    h = conv3('dec.out', h, 1, false);
  }
  const target = g.input('target', h.shape);
  const loss = nn.mse(h, target);
  const model = nn.buildTrainStep({ loss, optimizer: spec.optimizer ?? nn.adam() });
  return { model, trainFlops: flops, outShape: [...h.shape] };
}
