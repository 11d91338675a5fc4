"""Train a base text classifier on a source domain and save it as a model bundle.

Example:
    python scripts/train_base.py --data imdb.csv --text-col review --label-col sentiment \
        --out runs/base
With no --data it trains on the bundled movie review snippets.
"""
from __future__ import annotations

import argparse
import sys

from ..config import ENCODER_NAMES, BaseRun
from .common import (
    LENGTH_BUCKETS_HELP,
    HelpFormatter,
    data_arguments,
    run,
    setting,
    training_arguments,
)

EXAMPLES = """\
examples:
  transferlearn train-base --out runs/base                  # the bundled movie snippets
  transferlearn train-base --data ../shared/datasets/imdb_reviews.csv.gz --max-len 256 \\
      --min-freq 3 --epochs 6 --out runs/imdb
  transferlearn train-base --data s3://bucket/reviews.csv --text-col review --resume --out runs/b
"""

def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    data_arguments(p, "source")
    p.add_argument("--out", default=BaseRun.out,
                   help="bundle directory to write (local, or s3://bucket/prefix)")
    for name, more in (("encoder", {"choices": ENCODER_NAMES}),
                       ("embed_dim", {"help": "token vector width (default: the --init-vectors' "
                                              "width, else 128; ngram 64)"}),
                       ("hidden_size", {"help": "mean: dense units; bilstm: units per "
                                                "direction"}),
                       ("num_filters", {"help": "cnn: per window"}), ("dropout", {}),
                       ("embed_dropout", {}),
                       ("max_len", {"help": "tokens kept per text (default: the 95th percentile "
                                            "of the training texts' lengths, rounded up to "
                                            "64; at most 256, ngram 1,024)"}),
                       ("min_freq", {"help": "tokens seen fewer times map to <unk> (default: "
                                             "1; ngram 2)"}),
                       ("ngrams", {"help": "n-grams up to this order become tokens of a bag "
                                           "encoder (default: 2 for ngram, else 1)"}),
                       ("epochs", {}),
                       ("batch_size", {"help": "rows per batch (default: 64; ngram 256)"}),
                       ("lr", {"help": "Adam's learning rate (default: 1e-3; ngram 4e-3)"}),
                       ("weight_decay", {}), ("patience", {}),
                       ("val_size", {"help": "share of the training rows for early stopping"}),
                       ("length_buckets", {"help": LENGTH_BUCKETS_HELP}),
                       ("test_size", {"help": "held-out share when the data has no split "
                                              "column"}),
                       ("seed", {})):
        setting(p, name, BaseRun, **more)
    p.add_argument("--init-vectors", metavar="PATH", default=BaseRun.init_vectors,
                   help="start the embedding from token vectors: a GloVe/word2vec/fastText "
                        ".vec text file or a `transferlearn pretrain` output (local or s3://)")
    p.add_argument("--nb-scale", action=argparse.BooleanOptionalAction, default=BaseRun.nb_scale,
                   help="weigh each token by its naive-Bayes log-count ratio (default: on for "
                        "ngram, off otherwise)")
    training_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv=None, prog: str | None = None) -> int:
    parser = build_parser(prog)

    def body(args):
        from ..config import fields
        from ..experiments import train_base
        from ..training import distributed

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
