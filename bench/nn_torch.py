#!/usr/bin/env python3
"""PyTorch twin of bench/nn-net.ts: the PtychoPINN encoder conv stack (+ one decoder head),
3x3 'same' convs with ReLU, 2x2 max-pool, nearest upsampling, MSE, Adam (eps 1e-7).
Times --steps training steps after --warmup and prints one JSON line:
{"steps_per_s": …, "step_s": [...], "threads": …, "torch": …}."""
import argparse
import json
import time

import torch
import torch.nn as tnn

ap = argparse.ArgumentParser()
ap.add_argument('--batch', type=int, default=16)
ap.add_argument('--n', type=int, default=64)
ap.add_argument('--channels', type=int, default=1)
ap.add_argument('--decoder', type=int, default=1)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--warmup', type=int, default=1)
ap.add_argument('--steps', type=int, default=3)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

layers = []
cin = a.channels
for c in (64, 128, 256):
    layers += [tnn.Conv2d(cin, c, 3, padding=1), tnn.ReLU(), tnn.Conv2d(c, c, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2)]
    cin = c
if a.decoder:
    for c in (128, 64):
        layers += [tnn.Conv2d(cin, c, 3, padding=1), tnn.ReLU(), tnn.Conv2d(c, c, 3, padding=1), tnn.ReLU(),
                   tnn.Upsample(scale_factor=2, mode='nearest')]
        cin = c
    layers += [tnn.Conv2d(cin, 1, 3, padding=1)]
net = tnn.Sequential(*layers)
x = torch.rand(a.batch, a.channels, a.n, a.n)
with torch.no_grad():
    out_shape = net(x).shape
target = torch.rand(out_shape)
opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
times = []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = torch.mean((net(x) - target) ** 2)
    loss.backward()
    opt.step()
    float(loss)
    if i >= a.warmup:
        times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({'steps_per_s': 1 / times[len(times) // 2], 'step_s': times, 'threads': a.threads,
                  'torch': torch.__version__, 'mkldnn': bool(torch.backends.mkldnn.is_available())}))
