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
from pathlib import Path

import mxnet as mx
from mxnet import gluon
from mxnet.gluon import rnn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from lstm_hoist import E, H, N, milliseconds

from transferlearn.model.encoders import LengthLSTM


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


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    steps = int(argv[0]) if argv else 64
    for cls in (Bidirectional, TwoCalls, Lengths) * 2:  # alternating: a slow minute hits all
        ms = milliseconds(cls(), (N, steps, E), mx.nd.full((N,), steps))
        print(f"{steps} steps, {cls.__name__}: {ms:.1f} ms per forward + backward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
