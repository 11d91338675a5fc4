"""What the runs share: loading data with messages, label encoding, the output lock."""
from __future__ import annotations

import functools
import inspect

import numpy as np
import pandas as pd

from ..checks import check_settings
from ..data.readers import load_dataset
from ..data.splits import check_classes, split_train_test
from ..errors import DataError, redact
from ..io.storage import check_output, output_lock
from ..training import distributed

BASE_DEFAULTS = {"encoder": "cnn", "embed_dim": 128, "hidden_size": 100, "num_filters": 100,
                 "dropout": 0.5, "embed_dropout": 0.5}


def _log(verbose: bool, message: str) -> None:
    if verbose:
        print(message, flush=True)


def _settings_line(title: str, settings: dict) -> str:
    return redact(f"{title}: " + ", ".join(f"{k}={v}" for k, v in settings.items()))


def _encode_labels(series: pd.Series, labels: list, origin: str) -> np.ndarray:
    unknown = sorted(set(series) - set(labels))
    if unknown:
        raise DataError(f"{origin}: labels {unknown} are not among {labels}")
    index = {lab: i for i, lab in enumerate(labels)}
    return series.map(index).to_numpy(dtype=np.int64)


def _check_texts(df: pd.DataFrame, origin: str, verbose: bool) -> None:
    n_empty = int((df["text"].isna() | (df["text"].astype(str).str.strip() == "")).sum())
    if n_empty == len(df):
        raise DataError(f"{origin}: every text is empty")
    if n_empty:
        _log(verbose, f"{origin}: {n_empty} empty or missing texts, imputed as ''")


def _split_validation(df: pd.DataFrame, val_size: float, seed: int):
    if val_size <= 0 or len(df) < 10:
        return df, df.iloc[:0]
    return split_train_test(df.drop(columns="split", errors="ignore"), val_size, seed,
                            what="validation")


def _load(data, default, text_col, label_col, neutral_band, verbose, truthful_only=False,
          categorical=None):
    source = default if data is None else data
    df = load_dataset(source, text_col=text_col, label_col=label_col, neutral_band=neutral_band,
                      truthful_only=truthful_only, quiet=not verbose, categorical=categorical)
    for column, values in df.attrs.get("categories", {}).items():
        _log(verbose, f"categorical {column}: {len(values)} values, a token each in front of "
                      f"the text ({', '.join(values[:5])}{', ...' if len(values) > 5 else ''})")
    if df.attrs.get("n_html_breaks"):
        _log(verbose, f"{source}: HTML line breaks replaced in {df.attrs['n_html_breaks']:,} "
                      "texts")
    labels = check_classes(df, str(source))
    _check_texts(df, str(source), verbose)
    counts = ", ".join(f"{k} {v:,}" for k, v in df["label"].value_counts().sort_index().items())
    _log(verbose, f"data {source}: {len(df):,} rows ({counts})")
    return df, labels


# Arguments that name local inputs: --out may neither be, contain nor lie inside them.
INPUT_ARGUMENTS = ("data", "base", "source_data", "unlabeled")


def _locked(func):
    """Check every numeric setting (:mod:`~transferlearn.checks`), then that `func`'s ``out``
    is writable and apart from its inputs, then run it holding the output's lock (see
    :func:`storage.check_output` and :func:`storage.output_lock`).

    Nested calls that write inside a locked run (``_splits`` given), ``out=None`` and workers
    other than rank 0 of a distributed run skip the output checks and the lock.
    """
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        check_settings({**bound.arguments, **bound.arguments.get("transfer_kwargs", {})})
        out = bound.arguments.get("out")
        if out is None or bound.arguments.get("_splits") is not None:
            return func(*args, **kwargs)
        if distributed.rank(bound.arguments.get("kvstore", "device")) != 0:
            return func(*args, **kwargs)  # only rank 0 writes; the others just train
        inputs = [bound.arguments.get(k) for k in INPUT_ARGUMENTS]
        check_output(out, inputs)  # before any work, and before the lock creates directories
        with output_lock(out):
            return func(*args, **kwargs)

    return wrapper
