"""PyTorch CPU peer of crates/deepclust-nn/examples/ae_throughput.rs.

Trains the DEC autoencoder 784-500-500-2000-10 (mirrored decoder, ReLU inside, linear
code and output, MSE) with Adam (lr 1e-3) on random uniform data, batch 256 and 2048,
shuffled batches, one warm-up epoch then two timed epochs of AE_SAMPLES samples
(default 16384), and prints the best samples/s and GFLOP/s (6 * params per sample).

Run: bench/.venv/bin/python bench/torch_ae_throughput.py [256 2048]
"""
import os
import sys
import time

import torch
from torch import nn


def build(dims):
    layers = []
    full = dims + dims[-2::-1]
    n_layers = len(full) - 1
    for i in range(n_layers):
        layers.append(nn.Linear(full[i], full[i + 1]))
        linear_here = i == len(dims) - 2 or i == n_layers - 1
        if not linear_here:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def epoch(model, opt, x, batch, gen):
    perm = torch.randperm(x.shape[0], generator=gen)
    loss_fn = nn.MSELoss()
    start = time.perf_counter()
    for i in range(0, x.shape[0], batch):
        xb = x[perm[i : i + batch]]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), xb)
        loss.backward()
        opt.step()
    return x.shape[0] / (time.perf_counter() - start)


def main():
    batches = [int(a) for a in sys.argv[1:]] or [256, 2048]
    samples = int(os.environ.get("AE_SAMPLES", "16384"))
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(samples, 784)
    print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}")
    for batch in batches:
        model = build([784, 500, 500, 2000, 10])
        params = sum(p.numel() for p in model.parameters())
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        epoch(model, opt, x, batch, gen)  # warm-up
        rates = [epoch(model, opt, x, batch, gen) for _ in range(2)]
        best = max(rates)
        print(
            f"pytorch   batch {batch:5}: {best:8.0f} samples/s  {6 * params * best / 1e9:6.1f} GFLOP/s"
            f"  (params {params}, epochs of {samples} samples: {[round(r) for r in rates]})"
        )


if __name__ == "__main__":
    main()
