#!/usr/bin/env python3
"""PyTorch twin of the `study` bench group: train the given study files one after another
(gridsize 1, batch 16, Adam lr 1e-3, seed 0) for --epochs epochs of floor(G / batch) steps
each, as the PyTorch reference (bench/reference/torch_pinn.py, reference configuration)
would train the study's jobs on this machine. The caller times the whole process (start-up,
imports, data loading, model building and training); prints one JSON line with the steps
and the training seconds of each file.

    python3 study_torch.py --threads 2 --epochs 1 a_train.npz b_train.npz c_train.npz
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.environ.get('PTYCHO_REFERENCE_DIR', os.path.join(HERE, 'reference'))
sys.path.insert(0, REF)

import torch_pinn as tp  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('files', nargs='+')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    jobs = []
    for path in a.files:
        t0 = time.perf_counter()
        tp.setup_torch(a.threads, a.seed, 'cpu')
        d = tp.load_npz(path)
        model, data, _ = tp.build(d, 1, seed=a.seed)
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
    print(json.dumps({'jobs': jobs}))


if __name__ == '__main__':
    main()
