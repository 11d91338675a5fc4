"""``transferlearn data``: get the blog's data sets, describe one, push it to S3, pull it back.

Examples::

    transferlearn data get imdb          # -> data/imdb_reviews.csv.gz, then --data imdb
    transferlearn data describe imdb
    transferlearn data push aclImdb_v1.tar.gz s3://my-bucket/data/
    transferlearn data pull s3://my-bucket/data/hotel.csv.gz data/hotel.csv.gz
    transferlearn data describe s3://my-bucket/data/aclImdb/ --json
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, StorageError
from .common import data_arguments, overwrite_argument, run, storage_arguments

PERCENTILES = (5, 25, 50, 75, 95, 100)


def describe(df: pd.DataFrame, source: str) -> dict:
    """Rows, label balance, splits, empty and duplicate texts, length percentiles."""
    texts = df["text"].fillna("").astype(str)
    words = texts.str.split().str.len()
    counts = df["label"].value_counts().sort_index()
    info = {
        "source": source, "rows": int(len(df)), "columns": [str(c) for c in df.columns],
        "labels": {str(k): int(v) for k, v in counts.items()},
        "label_share": {str(k): round(v / len(df), 4) for k, v in counts.items()},
        "empty_texts": int((texts.str.strip() == "").sum()),
        "duplicate_texts": int(texts.duplicated().sum()),
        "chars_percentiles": _percentiles(texts.str.len()),
        "words_percentiles": _percentiles(words),
        "share_over_64_words": round(float((words > 64).mean()), 4),
    }
    if "split" in df.columns:
        info["splits"] = {str(k): int(v) for k, v in df["split"].value_counts().items()}
    return info


def _percentiles(values: pd.Series) -> dict:
    arr = values.to_numpy()
    return {f"p{p}": int(np.percentile(arr, p)) for p in PERCENTILES}


def format_description(info: dict) -> str:
    lines = [f"source   {info['source']}", f"rows     {info['rows']:,}",
             f"columns  {', '.join(info['columns'])}"]
    balance = ", ".join(f"{k} {v:,} ({info['label_share'][k]:.1%})"
                        for k, v in info["labels"].items())
    lines.append(f"labels   {balance}")
    if "splits" in info:
        lines.append("splits   " + ", ".join(f"{k} {v:,}" for k, v in info["splits"].items()))
    lines.append(f"empty    {info['empty_texts']:,} texts; duplicates {info['duplicate_texts']:,}")
    for unit in ("chars", "words"):
        pct = info[f"{unit}_percentiles"]
        lines.append(f"{unit:<8} " + "  ".join(f"{k} {v:,}" for k, v in pct.items()))
    lines.append(f"longer than 64 words (the default --max-len): "
                 f"{info['share_over_64_words']:.1%}")
    return "\n".join(lines)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    from ..data.download import REGISTRY

    p = argparse.ArgumentParser(prog=prog or "transferlearn data",
                                description="Get the blog's data sets, describe data sets and "
                                            "stage them in S3.")
    sub = p.add_subparsers(dest="command", required=True)
    get = sub.add_parser("get", help="download a data set from its publisher, check it "
                                     "against a pinned checksum, prepare it in data/",
                         description="; ".join(f"{r.name}: {r.about}"
                                               for r in REGISTRY.values()))
    get.add_argument("names", nargs="+", choices=list(REGISTRY), metavar="NAME",
                     help=f"{' or '.join(REGISTRY)}; then --data NAME reads it")
    get.add_argument("--quiet", action="store_true", help="no progress bar or messages")
    overwrite_argument(get)
    d = sub.add_parser("describe", help="rows, columns, label balance, length percentiles")
    d.add_argument("source", help="a file, aclImdb directory/archive, s3:// URI or bundled name")
    data_arguments(d, "source", data_flag=False)
    d.add_argument("--json", action="store_true", help="print JSON instead of text")
    push = sub.add_parser("push", help="upload a local file or directory to s3://")
    push.add_argument("local")
    push.add_argument("uri", help="s3://bucket/key, or s3://bucket/prefix/ (ends with /)")
    storage_arguments(push)
    pull = sub.add_parser("pull", help="download s3:// into the cache (and copy it to DEST)")
    pull.add_argument("uri")
    pull.add_argument("dest", nargs="?", default=None,
                      help="a file or directory to copy to: an existing file is replaced only "
                           "if transferlearn wrote it")
    overwrite_argument(pull)
    storage_arguments(pull)
    for parser in (push, pull):
        parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _body(args) -> None:
    from ..data.readers import load_dataset
    from ..io import s3
    from ..io.storage import is_s3, local_path

    if args.command == "get":
        from ..data.download import get

        for name in args.names:
            print(get(name, quiet=args.quiet, overwrite=args.overwrite))
    elif args.command == "describe":
        df = load_dataset(args.source, args.text_col, args.label_col, args.neutral_band,
                          truthful_only=args.truthful_only, quiet=args.json,
                          categorical=args.categorical)
        info = describe(df, str(args.source))
        print(json.dumps(info, indent=2) if args.json else format_description(info))
    elif args.command == "push":
        if not is_s3(args.uri):
            raise StorageError(f"push needs an s3:// destination, got {args.uri!r}")
        local = Path(args.local)
        if not local.exists():
            raise DataError(f"file not found: {args.local}")
        done = s3.upload(local, args.uri, quiet=args.quiet)
        print(f"uploaded {len(done)} object{'s' * (len(done) != 1)} to {args.uri}")
    else:
        if not is_s3(args.uri):
            raise StorageError(f"pull needs an s3:// source, got {args.uri!r}")
        cached = local_path(args.uri, quiet=args.quiet)
        if args.dest is None:
            print(cached)
            return
        _copy(cached, Path(args.dest), args.overwrite)
        print(f"{args.uri} -> {args.dest}")


def _copy(cached: Path, dest: Path, overwrite: bool = False) -> None:
    """Copy a cached file or tree to `dest`, file by file through temp names: a file is never
    partial, and what `dest` already holds besides the pulled files stays as it is. Every
    target is checked before the first copy: a file there is replaced only if the tool
    wrote it (or with `overwrite`)."""
    from ..io.manifest import MANIFEST
    from ..io.outputs import check_output_file
    from ..io.storage import atomic_write

    pairs = ([(f, dest / f.relative_to(cached)) for f in sorted(cached.rglob("*"))
              if f.is_file() and f.name != MANIFEST] if cached.is_dir() else
             [(cached, dest / cached.name if dest.is_dir() else dest)])
    for _, target in pairs:
        check_output_file(target, overwrite=overwrite, role="pull: destination")
    for source, target in pairs:
        with atomic_write(target, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out)


def main(argv=None, prog: str | None = None) -> int:
    return run(_body, argv, build_parser(prog))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
