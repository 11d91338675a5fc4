#!/usr/bin/env python
"""What reading each row to its length costs the BiLSTM: MXNet's fused bidirectional LSTM
(which reads the padding backwards), the two directions as two fused calls, and
transferlearn's ``LengthLSTM`` (two calls, the backward one on the rows reversed within their
lengths). Forward + backward, batch 64, 128 -> 2 x 100 units, hybridized.

    python benchmarks/lstm_lengths.py 64     # sequence length

Measured on 2 cores (README, speed section): 39.3-39.9 / 45.5-46.0 / 49.2-52.7 ms at 64
steps, 16.4-17.8 / 19.5-20.1 / 20.6-22.6 ms at 24.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import mxnet as mx
from mxnet import autograd, gluon
from mxnet.gluon import rnn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from transferlearn.model.encoders import LengthLSTM  # noqa: E402

E, H, N = 128, 100, 64


class Bidirectional(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.lstm = rnn.LSTM(H, layout="NTC", bidirectional=True, input_size=E)

    def hybrid_forward(self, F, x, lengths):  # (batch, steps, E) -> (batch, steps, 2H)
        return self.lstm(x)


class TwoCalls(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.fwd = rnn.LSTM(H, layout="NTC", input_size=E)
            self.bwd = rnn.LSTM(H, layout="NTC", input_size=E)

    def hybrid_forward(self, F, x, lengths):
        return F.concat(self.fwd(x), self.bwd(x), dim=2)  # timing only: no reversal


class Lengths(gluon.HybridBlock):
    def __init__(self):
        super().__init__()
        with self.name_scope():
            self.lstm = LengthLSTM(H, input_size=E)

    def hybrid_forward(self, F, x, lengths):
        return self.lstm(x, sequence_length=lengths)


def milliseconds(block: gluon.HybridBlock, steps: int, reps: int = 20) -> float:
    """Mean forward + backward time, after 3 warm-up steps, synchronised on the gradient."""
    block.initialize(mx.init.Xavier())
    block.hybridize(static_alloc=True, static_shape=True)
    x = mx.nd.random.uniform(shape=(N, steps, E))
    x.attach_grad()
    lengths = mx.nd.full((N,), steps)

    def step():
        with autograd.record():
            y = block(x, lengths).sum()
        y.backward()
        x.grad.wait_to_read()

    for _ in range(3):
        step()
    tic = time.perf_counter()
    for _ in range(reps):
        step()
    return (time.perf_counter() - tic) / reps * 1000


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    steps = int(argv[0]) if argv else 64
    for cls in (Bidirectional, TwoCalls, Lengths) * 2:  # alternating: a slow minute hits all
        print(f"{steps} steps, {cls.__name__}: {milliseconds(cls(), steps):.1f} ms "
              "per forward + backward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
