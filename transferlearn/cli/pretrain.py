"""Learn token vectors from unlabelled text (skip-gram) for ``train-base --init-vectors``.

Example:
    transferlearn pretrain --data ../shared/datasets/imdb_reviews.csv.gz,hotel.csv \
        --out runs/vectors
    transferlearn train-base --init-vectors runs/vectors --out runs/base
"""
from __future__ import annotations

import argparse
import sys

from ..config import PretrainRun
from .common import HelpFormatter, overwrite_argument, run, setting, storage_arguments

EXAMPLES = """\
examples:
  transferlearn pretrain --data movie_snippets,amazon_snippets --out runs/vectors
  transferlearn pretrain --data ../shared/datasets/imdb_reviews.csv.gz --epochs 3 \\
      --out runs/imdb-vectors        # reads IMDB's test texts too: transductive for IMDB
  transferlearn pretrain --data s3://bucket/unlabelled.txt --out s3://bucket/vectors
"""


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    p.add_argument("--data", required=True,
                   help="text sources, comma-separated: tables (CSV/TSV/Parquet, .gz), .txt "
                        "files with one text per line, aclImdb trees, bundled data set names, "
                        "s3:// locations; labels are not read")
    p.add_argument("--text-col", default=None, help="text column of tables (guessed if "
                                                    "omitted)")
    p.add_argument("--out", default=PretrainRun.out,
                   help="directory for vectors.vec and pretrain.json (local or s3://)")
    for name, more in (("embed_dim", {"help": "vector width: the base's --embed-dim"}),
                       ("window", {"help": "context tokens on each side"}),
                       ("min_count", {"help": "tokens seen fewer times get no vector"}),
                       ("epochs", {}), ("negative", {"help": "negative samples per pair"}),
                       ("workers", {"help": "threads (default: every core; 1 is "
                                            "reproducible)"}),
                       ("seed", {})):
        setting(p, name, PretrainRun, **more)
    overwrite_argument(p)
    storage_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def main(argv=None, prog: str | None = None) -> int:
    parser = build_parser(prog)

    def body(args):
        from ..config import fields
        from ..experiments.pretrain import pretrain

        summary = pretrain(**{k: getattr(args, k) for k in fields(PretrainRun)
                              if hasattr(args, k)}, verbose=not args.quiet)
        print("\n| metric | value |\n| --- | --- |")
        for key in ("texts", "tokens", "vectors", "embed_dim", "seconds"):
            print(f"| {key} | {summary[key]:,} |")
        print(f"\nvectors.vec and pretrain.json in {args.out}; use them with "
              f"`transferlearn train-base --init-vectors {args.out} --embed-dim "
              f"{summary['embed_dim']}`")

    return run(body, argv, parser)


if __name__ == "__main__":
    sys.exit(main())
