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

from transferlearn.cli.common import data_arguments, flag_type, run, training_arguments


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data_arguments(p, "source")
    p.add_argument("--out", default="runs/base",
                   help="bundle directory to write (local, or s3://bucket/prefix)")
    p.add_argument("--encoder", choices=("cnn", "bilstm", "mean"), default="cnn")
    p.add_argument("--embed-dim", type=flag_type("embed_dim"), default=128)
    p.add_argument("--hidden-size", type=flag_type("hidden_size"), default=100,
                   help="mean: dense units; bilstm: units per direction")
    p.add_argument("--num-filters", type=flag_type("num_filters"), default=100,
                   help="cnn: per window")
    p.add_argument("--dropout", type=flag_type("dropout"), default=0.5)
    p.add_argument("--embed-dropout", type=flag_type("embed_dropout"), default=0.5)
    p.add_argument("--max-len", type=flag_type("max_len"), default=64, help="tokens kept per text")
    p.add_argument("--min-freq", type=flag_type("min_freq"), default=1)
    p.add_argument("--epochs", type=flag_type("epochs"), default=10)
    p.add_argument("--batch-size", type=flag_type("batch_size"), default=64)
    p.add_argument("--lr", type=flag_type("lr"), default=1e-3)
    p.add_argument("--patience", type=flag_type("patience"), default=3)
    p.add_argument("--test-size", type=flag_type("test_size"), default=0.2,
                   help="held-out share when the data has no split column")
    p.add_argument("--seed", type=flag_type("seed"), default=0)
    training_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv=None) -> int:
    parser = build_parser()

    def body(args):
        from transferlearn import distributed, workflow

        metrics = workflow.train_base(
            data=args.data, text_col=args.text_col, label_col=args.label_col, out=args.out,
            encoder=args.encoder, embed_dim=args.embed_dim, hidden_size=args.hidden_size,
            num_filters=args.num_filters, dropout=args.dropout,
            embed_dropout=args.embed_dropout, max_len=args.max_len, min_freq=args.min_freq,
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            patience=args.patience, test_size=args.test_size, seed=args.seed,
            neutral_band=args.neutral_band, truthful_only=args.truthful_only,
            categorical=args.categorical, resume=args.resume, gpus=args.gpus,
            kvstore=args.kvstore, verbose=not args.quiet)
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
