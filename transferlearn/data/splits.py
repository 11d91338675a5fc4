"""Train/test/validation splits and the labelled sample of a target."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

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
    (a one-line :class:`DataError` when the data is too small for that). Rows whose
    ``split`` is missing (a source without one among several) are split stratified."""
    from sklearn.model_selection import train_test_split

    if "split" in df.columns and {"train", "test"} <= set(df["split"].dropna()):
        rest = df[df["split"].isna()]
        train, test = df[df["split"] == "train"], df[df["split"] == "test"]
        if len(rest):
            more_train, more_test = split_train_test(rest.drop(columns="split"), test_size,
                                                     random_state, what)
            train, test = pd.concat([train, more_train]), pd.concat([test, more_test])
        return train.reset_index(drop=True), test.reset_index(drop=True)
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
                    f"against {len(counts)} classes, and the smallest class "
                    f"('{counts.idxmin()}') has {counts.min()} row{'s' * (counts.min() != 1)}; "
                    "every class needs 2 rows and each side a row per class (more data, or "
                    "another size)")


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


@dataclass
class Splits:
    """A target's rows for one run, the same for every strategy compared on them.

    ``train`` and ``val`` are the labelled rows (early stopping watches ``val``), ``test``
    the held-out rows, ``unlabeled`` the texts of the training rows whose labels go unused
    (domain adaptation learns from them), ``categories`` the values of categorical columns.
    Unpacks as ``labels, train, val, test``, as version 1's tuple did.
    """

    labels: list
    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    unlabeled: list = field(default_factory=list)
    categories: dict = field(default_factory=dict)

    def __iter__(self):
        return iter((self.labels, self.train, self.val, self.test))

    @property
    def labelled(self) -> pd.DataFrame:
        """Every labelled row: training and validation."""
        return pd.concat([self.train, self.val], ignore_index=True)

    @property
    def n_labelled(self) -> int:
        return len(self.train) + len(self.val)


def split_validation(df: pd.DataFrame, val_size: float, seed: int):
    """(train, validation) of the labelled rows `df`; no validation below 10 rows."""
    if val_size <= 0 or len(df) < 10:
        return df, df.iloc[:0]
    return split_train_test(df.drop(columns="split", errors="ignore"), val_size, seed,
                            what="validation")


def make_splits(df: pd.DataFrame, labels: list, train_size: int | None = None,
                test_size: float = 0.2, val_size: float = 0.15, seed: int = 0,
                origin: str = "target") -> Splits:
    """The splits of a target: the test rows (the data's own, or stratified), then
    `train_size` labelled rows (all when None; 0: none, for domain adaptation) split into
    training and validation; the other training rows' texts become ``unlabeled``.

    The test rows depend only on `df`, `test_size` and `seed`, never on the strategy.
    """
    train_all, test = split_train_test(df, test_size, seed)
    if train_size == 0:  # domain adaptation from unlabelled target texts only
        train = val = train_all.iloc[:0].reset_index(drop=True)
        rest = train_all
    else:
        labelled, rest = take_labelled(train_all, train_size, seed, return_rest=True)
        check_classes(labelled, f"{origin} (the {len(labelled)} training rows)")
        train, val = split_validation(labelled, val_size, seed)
    return Splits(labels, train, val, test, unlabeled=rest["text"].tolist(),
                  categories=df.attrs.get("categories", {}))
