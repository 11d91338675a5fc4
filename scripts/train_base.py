#!/usr/bin/env python
"""Train a base text classifier on a source domain and save it as a model bundle.

Example:
    python scripts/train_base.py --data imdb.csv --text-col review --label-col sentiment \
        --out runs/base
With no --data it trains on the bundled movie review snippets.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transferlearn.cli.common import data_arguments, run, setting, training_arguments  # noqa: E402
from transferlearn.config import BaseRun  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data_arguments(p, "source")
    p.add_argument("--out", default=BaseRun.out,
                   help="bundle directory to write (local, or s3://bucket/prefix)")
    for name, more in (("encoder", {"choices": ("cnn", "bilstm", "mean")}),
                       ("embed_dim", {}),
                       ("hidden_size", {"help": "mean: dense units; bilstm: units per "
                                                "direction"}),
                       ("num_filters", {"help": "cnn: per window"}), ("dropout", {}),
                       ("embed_dropout", {}), ("max_len", {"help": "tokens kept per text"}),
                       ("min_freq", {}), ("epochs", {}), ("batch_size", {}), ("lr", {}),
                       ("weight_decay", {}), ("patience", {}),
                       ("val_size", {"help": "share of the training rows for early stopping"}),
                       ("test_size", {"help": "held-out share when the data has no split "
                                              "column"}),
                       ("seed", {})):
        setting(p, name, BaseRun, **more)
    training_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv=None) -> int:
    parser = build_parser()

    def body(args):
        from transferlearn.config import fields
        from transferlearn.experiments import train_base
        from transferlearn.training import distributed

        metrics = train_base(**{k: getattr(args, k) for k in fields(BaseRun) if hasattr(args, k)},
                             verbose=not args.quiet)
        if distributed.rank(args.kvstore) != 0:
            return  # rank 0 prints the results
        print("\n| metric | value |\n| --- | --- |")
        for key in ("accuracy", "roc_auc", "n_train", "n_val", "n_test", "best_epoch",
                    "train_seconds"):
            value = metrics[key]
            print(f"| {key} | {value:.4f} |" if isinstance(value, float) and key != "train_seconds"
                  else f"| {key} | {value} |")
        print(f"\nbundle and metrics.json in {args.out}")

    return run(body, argv, parser)


if __name__ == "__main__":
    sys.exit(main())
