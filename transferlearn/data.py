"""Data sets as ``DataFrame(text, label[, split])``: the bundled snippets or any CSV/TSV.

The bundled data (``data/`` in the project) are two sentence-level sentiment corpora from the
VADER release (Hutto & Gilbert 2014, MIT licence): movie review snippets (the source domain,
10,605 rows) and Amazon product review snippets (the target domain, 3,708 rows). Each row has
the mean of 20 human ratings on -4..+4; we label ``score > 0`` as ``positive`` and ``score < 0``
as ``negative``. Rows with ``|score| <= neutral_band`` have no clear polarity and are dropped;
the default band 0.0 drops only exact zeros (37 movie rows, 98 Amazon rows). Widen it (for
example to 0.5) to drop the near-neutral sentences whose label is mostly rater noise.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError, StorageError
from .storage import local_path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

BUNDLED = {
    "movie_snippets": "movieReviewSnippets_GroundTruth.txt",
    "amazon_snippets": "amazonReviewSnippets_GroundTruth.txt",
}
DEFAULT_SOURCE = "movie_snippets"
DEFAULT_TARGET = "amazon_snippets"

TEXT_COLUMNS = ("text", "review", "description", "sentence", "content", "comment")
LABEL_COLUMNS = ("label", "sentiment", "polarity", "is_response", "target", "class")


def read_snippets(path: str | os.PathLike, neutral_band: float = 0.0) -> pd.DataFrame:
    """Read a VADER ground-truth file (``id<TAB>score<TAB>text``) into text/label/score.

    The text contains quote characters, so each line is split on its first two tabs instead
    of going through ``pandas.read_csv`` (whose default quoting merges rows: 3,546 instead of
    3,708 Amazon rows).

    Examples
    --------
    >>> df = read_snippets(DATA_DIR / BUNDLED["amazon_snippets"])  # doctest: +SKIP
    >>> df.columns.tolist()  # doctest: +SKIP
    ['text', 'label', 'score']
    """
    rows = []
    with open(path, encoding="utf-8", newline="") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t", 2)
            if len(parts) != 3:
                raise DataError(f"{path}:{line_no}: expected 'id<TAB>score<TAB>text'")
            try:
                score = float(parts[1])
            except ValueError:
                raise DataError(f"{path}:{line_no}: score {parts[1]!r} is not a number") from None
            rows.append((parts[2], score))
    df = pd.DataFrame(rows, columns=["text", "score"])
    df = df[df["score"].abs() > neutral_band].reset_index(drop=True)
    df.insert(1, "label", np.where(df["score"] > 0, "positive", "negative"))
    return df


def _separator(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() not in (".gz", ".bz2", ".zip", ".xz")]
    return "\t" if suffixes and suffixes[-1] in (".tsv", ".tab", ".txt") else ","


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV/TSV (optionally compressed) with every column as text."""
    path = Path(path)
    try:
        return pd.read_csv(path, sep=_separator(path), dtype=str, keep_default_na=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse as a table ({str(exc).strip()})") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _pick_column(columns, wanted: str | None, candidates, role: str, path) -> str:
    if wanted is not None:
        if wanted in columns:
            return wanted
        raise DataError(
            f"{path}: no {role} column '{wanted}'; columns found: {', '.join(map(str, columns))}"
        )
    lowered = {str(c).lower(): c for c in columns}
    for name in candidates:
        if name in lowered:
            return lowered[name]
    raise DataError(
        f"{path}: cannot tell which column holds the {role}; columns found: "
        f"{', '.join(map(str, columns))}; pass --{role}-col"
    )


def to_text_label(
    df: pd.DataFrame, text_col: str | None = None, label_col: str | None = None, origin="data"
) -> pd.DataFrame:
    """Select and normalise the text and label columns (plus ``split`` if present).

    Rows without a label are dropped; missing texts are kept (the text pipeline imputes them).
    The numbers of both are kept in ``df.attrs`` so callers can report them.
    """
    if len(df.columns) == 0 or len(df) == 0:
        raise DataError(f"{origin}: no rows")
    text = _pick_column(df.columns, text_col, TEXT_COLUMNS, "text", origin)
    label = _pick_column(df.columns, label_col, LABEL_COLUMNS, "label", origin)
    out = pd.DataFrame({"text": df[text], "label": df[label]})
    if "split" in df.columns:
        out["split"] = df["split"].astype(str).str.strip().str.lower()
    out["label"] = out["label"].astype("string").str.strip()
    missing_label = out["label"].isna() | (out["label"] == "")
    out = out[~missing_label].reset_index(drop=True)
    out["label"] = out["label"].astype(str)
    if out.empty:
        raise DataError(f"{origin}: no rows with a label in column '{label}'")
    out.attrs["n_dropped_no_label"] = int(missing_label.sum())
    out.attrs["n_empty_text"] = int((out["text"].isna() | (out["text"].str.strip() == "")).sum())
    return out


def load_dataset(
    source: str | os.PathLike | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    neutral_band: float = 0.0,
) -> pd.DataFrame:
    """Load a data set by bundled name or path and return ``DataFrame(text, label[, split])``.

    Parameters
    ----------
    source : str or path, default ``"movie_snippets"``
        A bundled name (``movie_snippets``, ``amazon_snippets``) or a CSV/TSV path
        (``.gz`` allowed).
    text_col, label_col : str, optional
        Column names; guessed from common names (``text``, ``review``, ``label``,
        ``sentiment``, ...) when not given.
    neutral_band : float
        Bundled snippets only: drop rows whose score is within this distance of 0.
    """
    source = DEFAULT_SOURCE if source is None else source
    if str(source) in BUNDLED:
        return read_snippets(DATA_DIR / BUNDLED[str(source)], neutral_band=neutral_band)
    try:
        path = local_path(source)
    except StorageError as exc:
        names = ", ".join(BUNDLED)
        raise DataError(f"{exc} (bundled data sets: {names})") from None
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV/TSV file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    return to_text_label(read_table(path), text_col, label_col, origin=str(path))


def check_classes(df: pd.DataFrame, origin: str = "data") -> list[str]:
    """Return the sorted label names, refusing data with fewer than two classes."""
    labels = sorted(df["label"].unique().tolist())
    if len(labels) < 2:
        found = f"only the label '{labels[0]}'" if labels else "no labels"
        raise DataError(f"{origin}: {found}; a classifier needs at least two classes")
    return labels


def split_train_test(df: pd.DataFrame, test_size: float = 0.2, random_state: int = 0):
    """Split into (train, test): the ``split`` column if the data has one, else stratified."""
    from sklearn.model_selection import train_test_split

    if "split" in df.columns and {"train", "test"} <= set(df["split"]):
        return (
            df[df["split"] == "train"].reset_index(drop=True),
            df[df["split"] == "test"].reset_index(drop=True),
        )
    counts = df["label"].value_counts()
    stratify = df["label"] if counts.min() >= 2 else None
    train, test = train_test_split(
        df, test_size=test_size, random_state=random_state, stratify=stratify
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def take_labelled(df: pd.DataFrame, n: int | None, random_state: int = 0) -> pd.DataFrame:
    """A stratified sample of `n` labelled rows (all rows when `n` is None)."""
    if n is None or n == len(df):
        return df.reset_index(drop=True)
    if n <= 0:
        raise DataError(f"train size must be positive, got {n}")
    if n > len(df):
        raise DataError(f"train size {n} is larger than the {len(df)} training rows available")
    from sklearn.model_selection import train_test_split

    counts = df["label"].value_counts()
    stratify = df["label"] if counts.min() >= 2 and n >= len(counts) else None
    sample, _ = train_test_split(
        df, train_size=n, random_state=random_state, stratify=stratify
    )
    return sample.reset_index(drop=True)
