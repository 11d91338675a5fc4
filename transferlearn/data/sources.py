"""Several labelled sources as one data set: ``movie_snippets,../shared/datasets/imdb.csv.gz``.

Each source is read as :func:`~transferlearn.data.readers.load_dataset` reads one; its labels
are mapped onto one label set (``label_map``, e.g. ``{"pos": "positive", "1": "positive"}``);
a ``source`` column says where each row came from. A source with a ``split`` column (IMDB's
official train/test) keeps it; the rows of the others are split as usual
(:func:`~transferlearn.data.splits.split_train_test`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError
from .readers import load_dataset


def source_list(data) -> list:
    """`data` as a list of sources: a list or tuple as is; a string with commas split on them
    (unless it names an existing file); anything else (one path, a DataFrame) alone."""
    if isinstance(data, (list, tuple)):
        return list(data)
    if isinstance(data, str) and "," in data and not Path(data).expanduser().exists():
        return [part.strip() for part in data.split(",") if part.strip()]
    return [data]


def map_labels(df: pd.DataFrame, label_map: dict | None) -> pd.DataFrame:
    """`df` with its labels as strings, each renamed by `label_map` when listed there."""
    df["label"] = df["label"].astype(str).map(lambda x: (label_map or {}).get(x, x))
    return df


def load_sources(sources: list, label_map: dict | None = None, **read) -> pd.DataFrame:
    """One ``DataFrame(text, label, source[, split])`` of several sources (``read``: the
    keyword arguments of :func:`load_dataset` for each). The label sets must agree once
    `label_map` is applied; ``attrs["sources"]`` holds ``{source: rows}``."""
    frames, label_sets = [], {}
    for source in sources:
        df = map_labels(load_dataset(source, **read), label_map)
        df["source"] = str(source)
        label_sets[str(source)] = sorted(df["label"].unique())
        frames.append(df)
    if len({tuple(v) for v in label_sets.values()}) > 1:
        sets = "; ".join(f"{s}: {', '.join(v)}" for s, v in label_sets.items())
        raise DataError(f"the sources have different labels ({sets}); map them onto one set "
                        f"with --label-map, e.g. '{{\"pos\": \"positive\"}}'")
    out = pd.concat(frames, ignore_index=True)
    if "split" in out.columns:
        out["split"] = out["split"].where(out["split"].notna(), None)
    out.attrs["sources"] = {str(s): len(f) for s, f in zip(sources, frames, strict=True)}
    for frame in frames:  # categories of categorical columns: the union
        for column, values in frame.attrs.get("categories", {}).items():
            known = out.attrs.setdefault("categories", {}).setdefault(column, [])
            known += [v for v in values if v not in known]
    return out


__all__ = ["load_sources", "map_labels", "source_list"]
