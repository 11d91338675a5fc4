"""The allowed range of every numeric setting, in one table, for the scripts and the API.

The table (:data:`BOUNDS`) is read off the settings' fields (each carries its range, see
:func:`transferlearn.config.setting`) plus the commands' own options. argparse types
(:func:`flag_type`) and :func:`check_settings` (called by the run functions before any work)
read it, so ``--lr nan`` and ``train_base(lr=float("nan"))`` fail the same way, at once, with
one line.
"""
from __future__ import annotations

import argparse

from .config import COUNT, MAX_LEN, MAX_SOURCES, MAX_WIDTH, Bound, bounds
from .errors import DataError

__all__ = ["BOUNDS", "Bound", "MAX_LEN", "MAX_SOURCES", "MAX_WIDTH", "OPTIONS", "check_settings",
           "check_value", "environment_value", "flag_type"]


# Options of the commands that are not settings of a run (the settings' ranges are on their
# fields in config).
OPTIONS: dict[str, Bound] = {
    "repeats": COUNT, "tsne_points": Bound(10, integer=True),
    "worst": Bound(0, 10_000, integer=True),
}
BOUNDS: dict[str, Bound] = {**bounds(), **OPTIONS}


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
