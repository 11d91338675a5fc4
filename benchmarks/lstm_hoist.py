#!/usr/bin/env python
"""One LSTM direction, two ways: MXNet's fused oneDNN RNN operator against the input
projection hoisted out of the recurrence (one GEMM over all time steps) and the recurrence
unrolled as a hybridized cell loop. Forward + backward, batch 64, 128 -> 100 units.

    python benchmarks/lstm_hoist.py 24     # sequence length (snippets in buckets: ~24)

Measured on 2 cores (README, speed section): 9.8-10.2 against 25.6-27.1 ms at 24 steps and
22.9-23.2 against 65.6-67.3 ms at 64: the unrolled loop is 2.6-2.9x slower. The fused
operator cannot take a projected input (it always applies its own input weights), and
oneDNN's LSTM already computes the input GEMM of all time steps at once, so nothing is left
to hoist: the fused operator stays.
"""
from __future__ import annotations

import sys
import time

import mxnet as mx
from mxnet import autograd, gluon
from mxnet.gluon import nn, rnn

E, H, N = 128, 100, 64


class Fused(gluon.HybridBlock):
    def __init__(self, steps: int):
        super().__init__()
        with self.name_scope():
            self.lstm = rnn.LSTM(H, layout="TNC", input_size=E)

    def hybrid_forward(self, F, x):  # (steps, batch, E) -> (steps, batch, H)
        return self.lstm(x)


class Hoisted(gluon.HybridBlock):
    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps
        with self.name_scope():
            self.i2h = nn.Dense(4 * H, flatten=False, in_units=E)
            self.h2h = nn.Dense(4 * H, flatten=False, in_units=H, use_bias=False)

    def hybrid_forward(self, F, x):  # (steps, batch, E) -> (steps, batch, H)
        gates_x = self.i2h(x)  # (steps, batch, 4H): one GEMM over all steps
        per_step = F.split(gates_x, num_outputs=self.steps, axis=0, squeeze_axis=True)
        h = F.zeros_like(F.slice_axis(per_step[0], axis=1, begin=0, end=H))  # (batch, H)
        c, outs = h, []
        for gates in per_step:
            i, f, g, o = F.split(gates + self.h2h(h), num_outputs=4, axis=1)
            c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
            h = F.sigmoid(o) * F.tanh(c)
            outs.append(h)
        return F.stack(*outs, axis=0)


def milliseconds(block: gluon.HybridBlock, shape: tuple, *extra, reps: int = 30) -> float:
    """Mean forward + backward time of `block` on a random input of `shape` (and `extra`
    inputs), after 5 warm-up steps, synchronised on the input's gradient."""
    block.initialize(mx.init.Xavier())
    block.hybridize(static_alloc=True, static_shape=True)
    x = mx.nd.random.uniform(shape=shape)
    x.attach_grad()

    def step():
        with autograd.record():
            y = block(x, *extra).sum()
        y.backward()
        x.grad.wait_to_read()

    for _ in range(5):
        step()
    tic = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - tic) / reps * 1000


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    steps = int(argv[0]) if argv else 32
    for cls in (Fused, Hoisted, Fused, Hoisted):  # alternating: a slow minute hits both
        print(f"{steps} steps, {cls.__name__.lower()}: "
              f"{milliseconds(cls(steps), (steps, N, E)):.1f} ms per forward + backward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
