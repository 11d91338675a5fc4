"""Train/test/validation splits and the labelled sample of a target."""
from __future__ import annotations

import sys

import pandas as pd

from ..errors import DataError
from .readers import label_variants


def check_classes(df: pd.DataFrame, origin: str = "data") -> list[str]:
    """Return the sorted label names, refusing data with fewer than two classes and warning
    (stderr) about labels that look like one class written two ways."""
    labels = sorted(df["label"].unique().tolist())
    if len(labels) < 2:
        found = f"only the label '{labels[0]}'" if labels else "no labels"
        raise DataError(f"{origin}: {found}; a classifier needs at least two classes")
    for group in label_variants(labels):
        print(f"warning: {origin}: labels {', '.join(map(repr, group))} differ only by case or "
              "number format and are treated as different classes; rewrite them as one "
              "if they mean the same", file=sys.stderr)
    return labels


def split_train_test(df: pd.DataFrame, test_size: float = 0.2, random_state: int = 0,
                     what: str = "test"):
    """Split into (train, test): the ``split`` column if the data has one, else stratified
    (a one-line :class:`DataError` when the data is too small for that)."""
    from sklearn.model_selection import train_test_split

    if "split" in df.columns and {"train", "test"} <= set(df["split"]):
        return (
            df[df["split"] == "train"].reset_index(drop=True),
            df[df["split"] == "test"].reset_index(drop=True),
        )
    _check_stratifiable(df, test_size, what)
    train, test = train_test_split(
        df, test_size=test_size, random_state=random_state, stratify=df["label"]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _check_stratifiable(df: pd.DataFrame, share: float, what: str) -> None:
    """One line when `df` is too small for a stratified split holding out `share` of it:
    each side needs a row of every class, so every class needs two rows."""
    import math

    counts = df["label"].value_counts()
    n_held = math.ceil(share * len(df))
    n_kept = len(df) - n_held
    if counts.min() >= 2 and min(n_held, n_kept) >= len(counts):
        return
    raise DataError(f"{len(df):,} rows in {len(counts)} classes are too few for a stratified "
                    f"{what} split of {share:g}: it would hold {n_held} row{'s' * (n_held != 1)} "
                    "against "
                    f"{len(counts)} classes, and the smallest class "
                    f"('{counts.idxmin()}') has {counts.min()} rows; every class needs 2 "
                    "rows and each side a row per class (more data, or another size)")


def take_labelled(df: pd.DataFrame, n: int | None, random_state: int = 0,
                  return_rest: bool = False):
    """A stratified sample of `n` labelled rows (all rows when `n` is None).

    With `return_rest`, returns ``(sample, rest)``: the rows not taken serve as unlabelled
    target texts for domain adaptation.
    """
    if n is None or n == len(df):
        sample, rest = df.reset_index(drop=True), df.iloc[:0]
    elif n <= 0:
        raise DataError(f"train size must be positive, got {n}")
    elif n > len(df):
        raise DataError(f"train size {n} is larger than the {len(df)} training rows available")
    else:
        from sklearn.model_selection import train_test_split

        counts = df["label"].value_counts()
        stratify = df["label"] if counts.min() >= 2 and n >= len(counts) else None
        sample, rest = train_test_split(
            df, train_size=n, random_state=random_state, stratify=stratify
        )
        sample = sample.reset_index(drop=True)
    return (sample, rest.reset_index(drop=True)) if return_rest else sample
