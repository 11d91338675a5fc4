#!/usr/bin/env python
"""Learn token vectors from unlabelled text (skip-gram) for train_base.py --init-vectors.

A thin wrapper of ``transferlearn pretrain`` (:mod:`transferlearn.cli.pretrain`);
``python scripts/pretrain.py --help`` lists the flags.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transferlearn.cli.pretrain import *  # noqa: F403  (build_parser, main, ...)
from transferlearn.cli.pretrain import main

if __name__ == "__main__":
    sys.exit(main())
