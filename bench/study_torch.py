#!/usr/bin/env python3
"""PyTorch twin of the `study` bench group: train the given study files one after another
(gridsize 1, batch 16, Adam lr 1e-3, seed 0) for --epochs epochs of floor(G / batch) steps
each, as the PyTorch reference (bench/reference/torch_pinn.py) would train the study's jobs on
this machine. --config study (default) builds the model the workbench trains for a study job:
the border branch on (probe_big), no probe mask, the intensity scale a trained parameter;
--config reference builds the reference configuration (no border branch, probe mask, fixed
scale), which does less work per step. The caller times the whole process (start-up,
imports, data loading, model building and training); prints one JSON line with the steps
and the training seconds of each file.

    python3 study_torch.py --threads 2 --epochs 1 [--config study|reference] a.npz b.npz c.npz
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.environ.get('PTYCHO_REFERENCE_DIR', os.path.join(HERE, 'reference'))
sys.path.insert(0, REF)

import torch  # noqa: E402
import torch_pinn as tp  # noqa: E402


def build_model(d, config, seed):
    if config == 'reference':
        return tp.build(d, 1, seed=seed)
    model, data, info = tp.build(d, 1, seed=seed, probe_big=True, probe_mask=False)
    # The study trains the intensity scale: the buffer becomes a parameter (same value).
    log_scale = model.log_scale.detach().clone()
    del model._buffers['log_scale']
    model.log_scale = torch.nn.Parameter(log_scale)
    return model, data, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('files', nargs='+')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--config', choices=['study', 'reference'], default='study')
    a = ap.parse_args()
    jobs = []
    for path in a.files:
        t0 = time.perf_counter()
        tp.setup_torch(a.threads, a.seed, 'cpu')
        d = tp.load_npz(path)
        model, data, _ = build_model(d, a.config, a.seed)
        opt = tp.make_optimizer(model)
        X, off = data['X'], data['offsets']
        n = len(data['idx'])
        steps = a.epochs * (n // a.batch)
        it = tp.batches(n, a.batch, a.seed)
        loss = float('nan')
        for _ in range(steps):
            b = next(it)
            loss = tp.train_step(model, opt, X[b], off[b])
        jobs.append({'file': path, 'groups': n, 'steps': steps, 'seconds': time.perf_counter() - t0,
                     'final_loss': loss})
    print(json.dumps({'config': a.config, 'jobs': jobs}))


if __name__ == '__main__':
    main()
