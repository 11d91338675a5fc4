#!/usr/bin/env python
"""Where a training epoch's time goes, per MXNet operator (MXNet's own profiler).

    python benchmarks/profile_step.py --arch cnn --rows 3200

Trains one warm-up epoch on a few rows (graph building), then profiles one epoch on
``--rows`` rows of the bundled movie snippets and prints MXNet's aggregate table: time per
operator (forward and backward graphs appear as fused groups) and per C API call. The speed
changes in the README's speed section were found this way: a host copy per step
(``MXNDArraySyncCopyFromCPU``), and the masked pooling inside the fused forward group.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", choices=("mean", "cnn", "bilstm"), default="cnn")
    p.add_argument("--rows", type=int, default=3200)
    p.add_argument("--out", default="profile.json", help="chrome://tracing file")
    args = p.parse_args(argv)
    import mxnet as mx
    from speed import SIZES, load_data

    from transferlearn.model.network import TextClassifier
    from transferlearn.training import fit

    X, y, _, _, vocab_size = load_data("snippets", 0)
    net = TextClassifier(vocab_size, 2, encoder=args.arch, embed_dropout=0.5, **SIZES)
    net.initialize(mx.init.Xavier())
    fit(net, X[:640], y[:640], num_epochs=1, verbose=False)
    mx.profiler.set_config(profile_all=True, aggregate_stats=True, filename=args.out)
    mx.profiler.set_state("run")
    fit(net, X[:args.rows], y[:args.rows], num_epochs=1, verbose=False)
    mx.nd.waitall()
    mx.profiler.set_state("stop")
    print(mx.profiler.dumps(sort_by="total", ascending=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
