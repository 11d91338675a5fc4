#!/usr/bin/env python
"""Transfer a base model bundle to a target data set with one or more strategies.

A thin wrapper of ``transferlearn transfer`` (:mod:`transferlearn.cli.transfer`);
``python scripts/transfer.py --help`` lists the flags.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transferlearn.cli.transfer import *  # noqa: F403  (build_parser, main, ...)
from transferlearn.cli.transfer import main

if __name__ == "__main__":
    sys.exit(main())
