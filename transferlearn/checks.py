"""The allowed range of every numeric setting, in one table, for the scripts and the API.

argparse types (:func:`flag_type`) and :func:`check_settings` (called by the run functions
before any work) read the same table, so ``--lr nan`` and ``train_base(lr=float("nan"))``
fail the same way, at once, with one line.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from .errors import DataError


@dataclass(frozen=True)
class Bound:
    """``low <(=) value <(=) high``; `integer` settings refuse fractions."""

    low: float = -math.inf
    high: float = math.inf
    low_inclusive: bool = True
    high_inclusive: bool = True
    integer: bool = False

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a number"
        low, high = (f"{x:,.0f}" if self.integer else f"{x:g}" for x in (self.low, self.high))
        if self.high == math.inf:
            return f"{kind} {'>=' if self.low_inclusive else '>'} {low}"
        left, right = "[" if self.low_inclusive else "(", "]" if self.high_inclusive else ")"
        return f"{kind} in {left}{low}, {high}{right}"

    def admits(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not math.isfinite(value) or (self.integer and value != int(value)):
            return False
        above = value >= self.low if self.low_inclusive else value > self.low
        below = value <= self.high if self.high_inclusive else value < self.high
        return above and below


POSITIVE = Bound(0, low_inclusive=False)
NON_NEGATIVE = Bound(0)
SHARE = Bound(0, 1, low_inclusive=False, high_inclusive=False)  # a share of the rows
DROPOUT = Bound(0, 1, high_inclusive=False)
COUNT = Bound(1, integer=True)
# Sizes a bundle may have and still load (bundle_schema's bounds): no run saves a bundle that
# load_bundle would then refuse.
MAX_WIDTH, MAX_LEN = 8192, 10_000
MAX_SOURCES = 8  # labelled source sets a run reads as priors: the source models a bundle holds
WIDTH = Bound(1, MAX_WIDTH, integer=True)

BOUNDS: dict[str, Bound] = {
    "lr": POSITIVE, "weight_decay": NON_NEGATIVE, "dropout": DROPOUT,
    "embed_dropout": DROPOUT, "test_size": SHARE, "val_size": Bound(0, 1, high_inclusive=False),
    "seed": Bound(0, 2**32 - 1, integer=True), "neutral_band": NON_NEGATIVE,
    "body_lr_mult": NON_NEGATIVE, "head_lr_mult": POSITIVE, "discriminative_factor": POSITIVE,
    "temperature": POSITIVE, "alpha": Bound(0, 1), "adapt_weight": NON_NEGATIVE,
    "embed_dim": WIDTH, "hidden_size": WIDTH, "num_filters": WIDTH,
    "max_len": Bound(1, MAX_LEN, integer=True), "cv_folds": Bound(2, 20, integer=True),
    "min_freq": COUNT, "epochs": COUNT, "batch_size": COUNT, "patience": COUNT,
    "repeats": COUNT, "source_rows": COUNT, "tsne_points": Bound(10, integer=True),
    "train_size": Bound(0, integer=True), "ngrams": Bound(1, 4, integer=True),
    "target_share": SHARE, "length_buckets": Bound(0, 100, integer=True),
    "window": Bound(1, 100, integer=True), "min_count": COUNT,
    "negative": Bound(1, 100, integer=True), "workers": Bound(1, 256, integer=True),
    "worst": Bound(0, 10_000, integer=True),
}


# Environment variables read as numbers: the same bounds, one line naming the variable.
ENVIRONMENT: dict[str, Bound] = {
    "TRANSFERLEARN_S3_TIMEOUT": Bound(0.1, 3600),  # seconds a stalled S3 read waits
}


def environment_value(name: str, default: float, error: type[Exception] = DataError) -> float:
    """The number in ``$name`` (`default` when unset or empty), checked by
    :data:`ENVIRONMENT`; anything else raises `error` with one line."""
    import os

    text = os.environ.get(name, "").strip()
    if not text:
        return default
    bound = ENVIRONMENT[name]
    try:
        value = int(text) if bound.integer else float(text)
    except ValueError:
        value = None
    if value is None or not bound.admits(value):
        raise error(f"${name} must be {bound.describe()}, got {text!r}")
    return value


def check_value(name: str, value):
    """Return `value` if :data:`BOUNDS` admits it (None passes), else raise DataError."""
    bound = BOUNDS[name]
    if value is None or bound.admits(value):
        return value
    flag = "--" + name.replace("_", "-")
    raise DataError(f"{flag} must be {bound.describe()}, got {value!r}")


def check_settings(settings: dict) -> None:
    """Check every entry of `settings` that :data:`BOUNDS` names."""
    for name, value in settings.items():
        if name in BOUNDS:
            check_value(name, value)


def flag_type(name: str):
    """An argparse ``type=`` for setting `name`: parses, then checks the bound."""
    bound = BOUNDS[name]

    def parse(text: str):
        try:
            value = int(text) if bound.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {bound.describe()}, got {text!r}") \
                from None
        if not bound.admits(value):
            raise argparse.ArgumentTypeError(f"must be {bound.describe()}, got {text!r}")
        return value

    parse.__name__ = name  # argparse names the type in its messages
    return parse
