"""Reading a run's rows: one data set, several sources or a DataFrame as ``(DataFrame(text,
label[, split]), labels)``, with the messages a run shows; label names as class indices; how a
data set is named in titles and metrics."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import frame_name
from ..errors import DataError
from ..log import logger
from .readers import load_dataset, to_text_label
from .sources import load_sources, map_labels, source_list
from .splits import check_classes

# the settings (DataSettings' fields) that say how a data set is read
READ_SETTINGS = ("text_col", "label_col", "neutral_band", "truthful_only", "categorical",
                 "label_map")


def read_options(settings) -> dict:
    """The keyword arguments of :func:`load_data` that `settings` (a run's) gives."""
    return {name: getattr(settings, name) for name in READ_SETTINGS if hasattr(settings, name)}


def load_settings_data(settings, default):
    """:func:`load_data` of a run's ``data`` read as its settings say (`default`: the bundled
    set when ``data`` is None)."""
    return load_data(settings.data, default, **read_options(settings),
                     verbose=getattr(settings, "verbose", True))


def encode_labels(series: pd.Series, labels: list, origin: str) -> np.ndarray:
    """Label names -> class indices in the order of `labels`; unknown names are refused."""
    unknown = sorted(set(series) - set(labels))
    if unknown:
        raise DataError(f"{origin}: labels {unknown} are not among {labels}")
    index = {lab: i for i, lab in enumerate(labels)}
    return series.map(index).to_numpy(dtype=np.int64)


def check_texts(df: pd.DataFrame, origin: str) -> None:
    n_empty = int((df["text"].isna() | (df["text"].astype(str).str.strip() == "")).sum())
    if n_empty == len(df):
        raise DataError(f"{origin}: every text is empty")
    if n_empty:
        logger.info(f"{origin}: {n_empty} empty or missing texts, imputed as ''")


def load_data(data, default, *, text_col=None, label_col=None, neutral_band=0.0,  # noqa: PLR0913
              truthful_only=False, categorical=None, label_map=None, verbose=True):
    """``(DataFrame(text, label[, split]), sorted labels)`` of `data` (`default` when None): a
    path, ``s3://`` URI, bundled name, or a DataFrame with text and label columns; several
    sources (a list or a comma-separated string) are read into one, labels mapped with
    `label_map` (:func:`~transferlearn.data.sources.load_sources`)."""
    source = default if data is None else data
    read = {"text_col": text_col, "label_col": label_col, "neutral_band": neutral_band,
            "truthful_only": truthful_only, "quiet": not verbose, "categorical": categorical}
    if isinstance(source, pd.DataFrame):
        df = to_text_label(source, text_col, label_col, origin="DataFrame",
                           categorical=categorical)
        source = frame_name(source)
    elif len(sources := source_list(source)) > 1:
        df = load_sources(sources, label_map, **read)
        logger.info("sources: " + ", ".join(f"{name} {rows:,} rows"
                                            for name, rows in df.attrs["sources"].items()))
    else:
        df = load_dataset(source, **read)
        if label_map:
            df = map_labels(df, label_map)
    for column, values in df.attrs.get("categories", {}).items():
        logger.info(f"categorical {column}: {len(values)} values, a token each in front of "
                    f"the text ({', '.join(values[:5])}{', ...' if len(values) > 5 else ''})")
    if df.attrs.get("n_html_breaks"):
        logger.info(f"{source}: HTML line breaks replaced in {df.attrs['n_html_breaks']:,} "
                    "texts")
    labels = check_classes(df, str(source))
    check_texts(df, str(source))
    counts = ", ".join(f"{k} {v:,}" for k, v in df["label"].value_counts().sort_index().items())
    logger.info(f"data {source}: {len(df):,} rows ({counts})")
    return df, labels


def data_name(data) -> str:
    """A data set's name for a title: ``movie_snippets``, ``imdb_reviews`` (not a folder);
    several sources joined with ``+``."""
    if data is None:
        return "source"
    if isinstance(data, pd.DataFrame):
        return "DataFrame"
    names = []
    for part in source_list(str(data)):
        name = Path(str(part).rstrip("/")).name
        for suffix in (".gz", ".bz2", ".xz", ".zip", ".csv", ".tsv", ".parquet", ".txt"):
            name = name.removesuffix(suffix)
        names.append(name)
    return "+".join(names)


def origin_of(data, default) -> str:
    """How `data` is named in metrics and messages."""
    if isinstance(data, pd.DataFrame):
        return frame_name(data)
    return str(default if data is None else data)
