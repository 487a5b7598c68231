#!/usr/bin/env python3
"""The PyTorch yardstick for Sprig's training-step benchmarks (`cargo xtask bench --vs-pytorch`).

Times the same training iteration as `benches/benches/sprig.rs` (group `train_step`) in
PyTorch on the same machine: batch assembly from a host tensor, forward, cross-entropy,
backward, Adam step, loss read back. Same models, batch sizes and learning rates as the
Sprig tables: LeNet-300-100 (batch 60, Adam 1.2e-3) and the LTH paper's Conv-2 (batch 60,
Adam 2e-4). Prints one JSON object: the PyTorch version, the thread count and, per model,
the median milliseconds per iteration.
"""

import argparse
import json
import statistics
import time

import torch
from torch import nn


def lenet_300_100():
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 300), nn.ReLU(),
        nn.Linear(300, 100), nn.ReLU(),
        nn.Linear(100, 10),
    )


def conv_2():
    # Same as sprig_models::ConvNet with one pair: two 3x3 convolutions of 64 filters
    # ("same" padding), 2x2 max pooling, fully connected 256, 256, 10; ReLU throughout.
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 16 * 16, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 10),
    )


MODELS = {
    "lenet-300-100": (lenet_300_100, (1, 28, 28), 60, 1.2e-3),
    "conv-2": (conv_2, (3, 32, 32), 60, 2e-4),
}


def time_steps(name, warmup, iterations, examples=600):
    build, shape, batch, lr = MODELS[name]
    torch.manual_seed(0)
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    inputs = torch.randn(examples, *shape)
    labels = torch.arange(examples) % 10
    order = torch.randperm(examples)
    times = []
    position = 0
    for step in range(warmup + iterations):
        start = time.perf_counter()
        if position + batch > examples:
            position = 0
        index = order[position:position + batch]
        position += batch
        x, y = inputs[index], labels[index]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
        elapsed = time.perf_counter() - start
        if step >= warmup:
            times.append(elapsed * 1000.0)
    return statistics.median(times), len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--allocator", default="glibc malloc",
                        help="what the process was started with (recorded, e.g. via LD_PRELOAD)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplies the iteration counts (0.2 for a quick look)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(),
              "allocator": args.allocator, "models": {}}
    for name in args.models:
        # Seconds per model, not minutes: a Conv-2 step costs about a hundred LeNet steps.
        warmup, iterations = (200, 3000) if name == "lenet-300-100" else (5, 60)
        iterations = max(10, int(iterations * args.scale))
        median, n = time_steps(name, warmup, iterations)
        result["models"][name] = {"median_iter_ms": median, "iterations": n}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
