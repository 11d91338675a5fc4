#!/usr/bin/env python
"""Train a base text classifier on a source domain and save it as a model bundle.

A thin wrapper of ``transferlearn train-base`` (:mod:`transferlearn.cli.train_base`);
``python scripts/train_base.py --help`` lists the flags.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transferlearn.cli.train_base import *  # noqa: F403  (build_parser, main, ...)
from transferlearn.cli.train_base import main

if __name__ == "__main__":
    sys.exit(main())
