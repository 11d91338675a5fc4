"""``transferlearn``: one command with a subcommand per job.

::

    transferlearn pretrain --data imdb.csv,hotel.csv --out runs/vectors
    transferlearn train-base --data imdb.csv --init-vectors runs/vectors --out runs/base
    transferlearn transfer --base runs/base --data hotel.csv --strategy auto --out runs/hotel
    transferlearn predict --bundle runs/hotel --input reviews.txt --out labels.csv
    transferlearn evaluate --bundle runs/hotel --data labelled.csv --out runs/eval
    transferlearn data get imdb
    transferlearn data describe imdb
    transferlearn launch -n 2 -- transferlearn train-base --out runs/base

``transferlearn SUBCOMMAND --help`` lists each one's flags; ``scripts/train_base.py`` and
``scripts/transfer.py`` are the same as the first two.
"""
from __future__ import annotations

import contextlib
import importlib
import sys

# subcommand -> (module under transferlearn.cli, its main function, one line of help)
COMMANDS = {
    "train-base": ("train_base", "main", "train a base classifier on a source domain"),
    "pretrain": ("pretrain", "main", "learn token vectors from unlabelled text (skip-gram)"),
    "transfer": ("transfer", "main", "transfer a base bundle to a target (strategies, "
                                     "comparison, learning curve)"),
    "predict": ("predict", "predict_main", "labels and probabilities of texts from a bundle"),
    "evaluate": ("predict", "evaluate_main", "score a bundle on labelled texts"),
    "data": ("data", "main", "get the blog's data sets, describe one, push to S3, pull back"),
    "launch": ("launch", "main", "start a distributed run (scheduler, servers, workers)"),
}


def usage() -> str:
    from .. import __version__

    width = max(map(len, COMMANDS))
    return "\n".join([f"transferlearn {__version__}: transfer learning for text with "
                      "MXNet/Gluon", "", "usage: transferlearn SUBCOMMAND [flags]", ""]
                     + [f"  {name:<{width}}  {help_}" for name, (_, _, help_) in
                        COMMANDS.items()]
                     + ["", "transferlearn SUBCOMMAND --help: its flags"])


def main(argv=None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    except BrokenPipeError:  # `transferlearn --help | head -1`: quiet, as Unix tools are
        import os

        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: list) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from .. import __version__

        print(f"transferlearn {__version__}")
        return 0
    if argv[0] not in COMMANDS:
        import difflib

        near = difflib.get_close_matches(argv[0].replace("_", "-"), COMMANDS, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        print(f"error: unknown subcommand {argv[0]!r}{hint}; choose from "
              f"{', '.join(COMMANDS)} (see transferlearn --help)", file=sys.stderr)
        return 2
    module, function, _ = COMMANDS[argv[0]]
    entry = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    return entry(argv[1:], prog=f"transferlearn {argv[0]}")


if __name__ == "__main__":
    sys.exit(main())
