"""Shared command-line plumbing for the scripts: common flags and error handling."""
from __future__ import annotations

import argparse
import sys

from .errors import TransferLearnError


def data_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--data", default=None,
                        help=f"{what}: a CSV/TSV path (.gz allowed) or a bundled data set name "
                             f"(default: the bundled {what} snippets)")
    parser.add_argument("--text-col", default=None, help="text column (guessed if omitted)")
    parser.add_argument("--label-col", default=None, help="label column (guessed if omitted)")
    parser.add_argument("--neutral-band", type=float, default=0.0,
                        help="bundled snippets: drop rows with |score| <= this (default 0: "
                             "only exact zeros)")


def run(main_body, argv, parser: argparse.ArgumentParser) -> int:
    """Parse `argv`, call ``main_body(args)``; turn user errors into one line and exit 2."""
    args = parser.parse_args(argv)
    try:
        main_body(args)
    except TransferLearnError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        target = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"error: {exc.strerror or exc}{target}", file=sys.stderr)
        return 2
    return 0


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value
