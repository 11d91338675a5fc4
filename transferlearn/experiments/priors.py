"""Source models as a prior for the target (the ``prior`` strategy's linear part).

One TF-IDF + logistic regression per labelled source set (:func:`fit_priors`): the base's
training data, or ``source_data`` (a comma list gives one source model each). The target's
:class:`~transferlearn.sklearn.PriorLogisticRegression` then takes their logits as input
columns beside its own TF-IDF terms. A source model's labels need not be the target's: its
logit is an input, not an output. The fits do not depend on the target's labels, so a run
makes them once and every cross-validation fold reuses them.
"""
from __future__ import annotations

import time
from pathlib import Path

from ..config import FRAME_PREFIX
from ..data.loading import READ_SETTINGS, encode_labels, load_data, origin_of
from ..data.readers import DEFAULT_SOURCE
from ..data.sources import checked_source, source_list
from ..errors import DataError
from ..log import logger
from ..sklearn.baselines import fit_source_logreg

_CACHE: dict = {}  # (source, read settings) -> (spec, report row), for curves and repeats
_CACHE_SIZE = 8


def source_data_of(bundle, source_data) -> tuple:
    """``(data, read settings)``: `source_data`, or the data the base was trained on, read
    with the base's column settings (a DataFrame base needs `source_data`). The base's data
    is read only while it holds what the bundle recorded (:func:`checked_source`): a bundle
    never decides on its own which of the user's files a run reads."""
    training = bundle.config.get("training", {})
    if source_data is not None:
        return source_data, {}
    data = training.get("data") or DEFAULT_SOURCE
    if str(data).startswith(FRAME_PREFIX):  # a frame_name: the frame is gone
        raise DataError("the base was trained on a DataFrame, which its bundle does not hold: "
                        "give the source rows with source_data (--source-data)")
    for part in source_list(data):
        checked_source(str(part), bundle.config.get("training_data"))
    read = {k: training.get(k) for k in READ_SETTINGS}
    return data, {k: v for k, v in read.items() if v is not None}


def fit_priors(bundle, source_data, seed: int = 0, verbose: bool = False) -> tuple:
    """``(specs, report)``: a source model per labelled source set, and for each its name,
    rows, labels and fitting seconds."""
    data, read = source_data_of(bundle, source_data)
    specs, report = [], []
    for part in source_list(data):
        key = _key(part, read, seed)
        got = _CACHE.get(key) if key is not None else None
        if got is None:
            got = _fit_one(part, read, seed, verbose)
            if key is not None:
                if len(_CACHE) >= _CACHE_SIZE:
                    _CACHE.pop(next(iter(_CACHE)))
                _CACHE[key] = got
        spec, row = got
        specs.append(spec)
        report.append(row)
        logger.info(f"prior: a source model on {row['source']} ({row['rows']:,} rows, "
                    f"{len(spec['terms']):,} terms, fitted in {row['seconds']:.1f} s)")
    return specs, report


def _key(part, read: dict, seed: int):
    """A cache key for a local or bundled source (its size and time when a file); None for
    a DataFrame or S3."""
    if not isinstance(part, str) or part.startswith("s3://"):
        return None
    path = Path(part).expanduser()
    stamp = (path.stat().st_mtime_ns, path.stat().st_size) if path.is_file() else None
    return part, stamp, repr(sorted(read.items())), seed


def _fit_one(part, read: dict, seed: int, verbose: bool) -> tuple:
    tic = time.perf_counter()
    df, labels = load_data(part, DEFAULT_SOURCE, verbose=verbose, **read)
    origin = origin_of(part, DEFAULT_SOURCE)
    spec = fit_source_logreg(df["text"], encode_labels(df["label"], labels, origin), seed)
    return spec, {"source": origin, "rows": len(df), "labels": labels,
                  "seconds": round(time.perf_counter() - tic, 2)}
