"""Why Conv-2 trains slower in Burn than in PyTorch: the convolution weight gradient.

Burn 0.22 computes a convolution's weight gradient with burn-backend's default
`conv2d_weight_backward`: a convolution of the input over the output gradient with the
batch and channel axes swapped. Neither burn-flex nor burn-tch overrides it, and tch 0.22
does not expose LibTorch's `convolution_backward`. This script times, in LibTorch itself
(same threads, Conv-2's two layer shapes, batch 60 on 32 x 32), that formulation against
LibTorch's native weight gradient, the input gradient both ways, and the forward pass, and
checks that both weight gradients agree. Prints one JSON object.

    python benches/pytorch/conv_weight_grad.py [--threads 2]
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def median_ms(f, iterations=20, warmup=3):
    for _ in range(warmup):
        f()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def layer(c_in, c_out, batch=60, side=32):
    x = torch.randn(batch, c_in, side, side)
    w = torch.randn(c_out, c_in, 3, 3)
    g = torch.randn(batch, c_out, side, side)

    def swapped_axes():
        # burn-backend's default: conv(x^T, g^T) with batch and channels swapped.
        out = F.conv2d(x.transpose(0, 1), g.transpose(0, 1), padding=1)
        return out.transpose(0, 1).contiguous()

    def native(mask):
        return torch.ops.aten.convolution_backward(
            g, x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask)

    difference = (swapped_axes() - native([False, True, False])[1]).abs().max().item()
    return {
        "shape": f"{c_in}->{c_out}",
        "forward_ms": median_ms(lambda: F.conv2d(x, w, padding=1)),
        "weight_grad_swapped_axes_ms": median_ms(swapped_axes),
        "weight_grad_native_ms": median_ms(lambda: native([False, True, False])),
        "input_grad_transposed_conv_ms": median_ms(
            lambda: F.conv_transpose2d(g, w, padding=1)),
        "input_grad_native_ms": median_ms(lambda: native([True, False, False])),
        "max_abs_difference": difference,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "layers": [layer(3, 64), layer(64, 64)]}, indent=1))


if __name__ == "__main__":
    main()
