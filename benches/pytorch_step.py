#!/usr/bin/env python3
"""The canonical training step in PyTorch, eager, one thread: the peer charmlp's README compares
against. Not run by CI (it needs torch); anyone with `pip install torch` can reproduce the ratio.

    python3 benches/pytorch_step.py [--steps 2000] [--sample 20000]

Model and step as the lecture (makemore part 2): C[27,10], W1[30,200], b1, W2[200,27], b2;
batch 32 of random (context, target) pairs, tanh, cross-entropy, backward, SGD lr 0.1. Prints
µs per training step (best of 5 timed blocks) and µs per sampled character (one row at a time,
as a sampler draws).
"""
import argparse
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--sample", type=int, default=20000)
    a = ap.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(2147483647)
    V, B, E, H, N = 27, 3, 10, 200, 32
    C = torch.randn((V, E), generator=g)
    W1 = torch.randn((B * E, H), generator=g)
    b1 = torch.randn(H, generator=g)
    W2 = torch.randn((H, V), generator=g)
    b2 = torch.randn(V, generator=g)
    params = [C, W1, b1, W2, b2]
    for p in params:
        p.requires_grad = True
    X = torch.randint(0, V, (100_000, B), generator=g)
    Y = torch.randint(0, V, (100_000,), generator=g)

    def step(i):
        ix = torch.randint(0, X.shape[0], (N,), generator=g)
        emb = C[X[ix]]
        h = torch.tanh(emb.view(-1, B * E) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y[ix])
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:
            p.data += -0.1 * p.grad

    for i in range(200):
        step(i)
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for i in range(a.steps):
            step(i)
        best = min(best, (time.perf_counter() - t) / a.steps)
    print(f"PyTorch {torch.__version__} eager, 1 thread: {best * 1e6:.1f} µs per training step")

    with torch.no_grad():
        ctx = [0] * B
        t = time.perf_counter()
        for _ in range(a.sample):
            emb = C[torch.tensor([ctx])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            p = F.softmax(h @ W2 + b2, dim=1)
            ix = torch.multinomial(p, num_samples=1, generator=g).item()
            ctx = ctx[1:] + [ix] if ix != 0 else [0] * B
        dt = (time.perf_counter() - t) / a.sample
    print(f"PyTorch eager, 1 thread: {dt * 1e6:.1f} µs per sampled character")


if __name__ == "__main__":
    main()
