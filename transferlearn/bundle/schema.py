"""What a bundle's ``config.json`` and ``vocab.json`` may hold, checked field by field.

A bundle can come from a bucket the user does not control, so nothing in it is used before
it is checked: every size has a bound (no terabyte allocation from a huge ``max_len`` or
``embed_dim``), every name is one of the known choices, the tokenizer pattern is a known one
or compiles on RE2, whose matching time is linear (no catastrophic regex), and unknown model
fields are refused (they would reach Gluon's ``Block(**kwargs)``). Each problem is one line
naming the field.
"""
from __future__ import annotations

import hashlib
import json

from ..config import ENCODER_DEFAULTS, MAX_LEN, MAX_SOURCES, MAX_WIDTH, MODEL  # the flags' bounds
from ..model.encoders import ENCODERS

MAX_VOCAB = 5_000_000
MAX_EMBEDDING_VALUES = 500_000_000  # vocab x embed_dim: 2 GB of float32
MAX_CLASSES = 10_000
MAX_TOKEN_CHARS = 1_000


class SchemaError(ValueError):
    """One field of a bundle file is missing or out of bounds (the message names it)."""


def _integer(section: dict, key: str, low: int, high: int, default=None) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SchemaError(f"{key} must be an integer in [{low:,}, {high:,}], got {value!r}")
    return value


def _choice(section: dict, key: str, choices, default=None):
    value = section.get(key, default)
    if value not in choices:
        raise SchemaError(f"{key} must be one of {', '.join(map(repr, choices))}, got "
                          f"{value!r}")
    return value


def _dropout(section: dict, key: str) -> None:
    value = section.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise SchemaError(f"{key} must be a number in [0, 1), got {value!r}")


MODEL_FIELDS = {"vocab_size", "num_classes", "embed_dim", "encoder", "hidden_size",
                "num_filters", "kernel_sizes", "pooling", "dropout", "embed_dropout",
                "pad_index", "sparse_grad", "nb_scale"}


def check_model(model, n_tokens: int, n_labels: int) -> dict:
    """The ``model`` section: known fields only, each within bounds, sizes that agree with
    the vocabulary and the labels."""
    if not isinstance(model, dict):
        raise SchemaError("model must be an object")
    unknown = sorted(set(model) - MODEL_FIELDS)
    if unknown:
        raise SchemaError(f"model: unknown fields {unknown}")
    vocab_size = _integer(model, "vocab_size", 2, MAX_VOCAB)
    if vocab_size != n_tokens:
        raise SchemaError(f"model.vocab_size is {vocab_size:,} but vocab.json has "
                          f"{n_tokens:,} tokens")
    if _integer(model, "num_classes", 2, MAX_CLASSES) != n_labels:
        raise SchemaError(f"model.num_classes is {model['num_classes']} but there are "
                          f"{n_labels} labels")
    # a field a bundle lacks takes the settings' default (the width: every encoder's but ngram's)
    embed_dim = _integer(model, "embed_dim", 1, MAX_WIDTH, ENCODER_DEFAULTS[""]["embed_dim"])
    if vocab_size * embed_dim > MAX_EMBEDDING_VALUES:
        raise SchemaError(f"model: an embedding of {vocab_size:,} x {embed_dim:,} values is "
                          f"over the {MAX_EMBEDDING_VALUES:,} this tool loads")
    _choice(model, "encoder", ENCODERS, MODEL.encoder)
    _integer(model, "hidden_size", 1, MAX_WIDTH, MODEL.hidden_size)
    _integer(model, "num_filters", 1, MAX_WIDTH, MODEL.num_filters)
    windows = model.get("kernel_sizes", [3, 4, 5])
    if not (isinstance(windows, list) and 1 <= len(windows) <= 16 and all(
            isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= 64 for k in windows)):
        raise SchemaError(f"kernel_sizes must be a list of 1-16 integers in [1, 64], got "
                          f"{windows!r}")
    _choice(model, "pooling", ("max", "mean", None))
    _dropout(model, "dropout")
    _dropout(model, "embed_dropout")
    _choice(model, "pad_index", (0,), 0)
    _choice(model, "sparse_grad", (True, False), False)
    _choice(model, "nb_scale", (True, False), False)
    return model


def check_preprocessing(preprocessing) -> dict:
    """The ``preprocessing`` section (text pipeline settings)."""
    from ..data.text import DEFAULT_TOKEN_PATTERN

    if not isinstance(preprocessing, dict):
        raise SchemaError("preprocessing must be an object")
    _integer(preprocessing, "max_len", 1, MAX_LEN)
    _integer(preprocessing, "min_freq", 1, 2**31 - 1, 1)
    if preprocessing.get("max_size") is not None:
        _integer(preprocessing, "max_size", 2, MAX_VOCAB)
    _choice(preprocessing, "lowercase", (True, False), True)
    _choice(preprocessing, "truncation", ("pre", "post"), "post")
    _integer(preprocessing, "ngrams", 1, 4, 1)
    check_pattern(preprocessing.get("pattern", DEFAULT_TOKEN_PATTERN))
    for kind in ("split_pattern", "spaced_pattern"):
        if preprocessing.get(kind) is not None:
            check_pattern(preprocessing[kind])
    return preprocessing


def check_labels(labels) -> list:
    if not (isinstance(labels, list) and 2 <= len(labels) <= MAX_CLASSES):
        raise SchemaError(f"labels must be a list of 2 to {MAX_CLASSES:,} names")
    if not all(isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in labels):
        raise SchemaError("labels must be strings or numbers")
    if len({str(x) for x in labels}) != len(labels):
        raise SchemaError("labels must be unique")
    return labels


def check_tokens(tokens) -> list:
    """``vocab.json``: a list of unique strings of bounded length."""
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise SchemaError("expected a JSON list of tokens")
    if len(tokens) > MAX_VOCAB:
        raise SchemaError(f"{len(tokens):,} tokens, over the {MAX_VOCAB:,} this tool loads")
    if any(len(t) > MAX_TOKEN_CHARS for t in tokens):
        raise SchemaError(f"a token is longer than {MAX_TOKEN_CHARS:,} characters")
    if len(set(tokens)) != len(tokens):
        seen: set = set()
        duplicate = next(t for t in tokens if t in seen or _added(seen, t))
        raise SchemaError(f"duplicate token {duplicate[:40]!r}")
    return tokens


def _added(seen: set, item) -> bool:
    seen.add(item)
    return False


def check_training(training) -> None:
    """The run settings a transfer re-reads (where the base's source data was)."""
    if training is None:
        return
    if not isinstance(training, dict):
        raise SchemaError("training must be an object")
    for key in ("data", "text_col", "label_col"):
        if training.get(key) is not None and not isinstance(training[key], str):
            raise SchemaError(f"training.{key} must be a string")
    categorical = training.get("categorical")
    if categorical is not None and not (isinstance(categorical, list) and all(
            isinstance(c, str) for c in categorical)):
        raise SchemaError("training.categorical must be a list of column names")


def check_pattern(pattern) -> str:
    """A tokenizer regex that is one of the package's, or that RE2 compiles: every pattern a
    bundle brings runs in linear time (:func:`~transferlearn.data.text.compile_pattern`);
    nothing is probed, since no probe can prove a pattern safe."""
    from ..data.patterns import KNOWN_PATTERNS, compile_pattern

    if isinstance(pattern, str) and pattern in KNOWN_PATTERNS:
        return pattern
    if not isinstance(pattern, str) or not 0 < len(pattern) <= 500:
        raise SchemaError("pattern must be a regular expression of 1 to 500 characters")
    try:
        compile_pattern(pattern)
    except ValueError as exc:
        raise SchemaError(str(exc)) from None
    return pattern


MAX_TERMS = 5_000_000
MAX_PRIORS = MAX_SOURCES  # source models a prior model may carry
MAX_MIXTURE = 4  # linear models a blend may average
MAX_PRIOR_CLASSES = 1_000  # a source model's classes (its own labels, not the target's)


def _numbers(values, what: str, length: int | None = None) -> None:
    """A list of finite numbers (of `length` when given)."""
    import math

    if not isinstance(values, list) or (length is not None and len(values) != length):
        raise SchemaError(f"{what} must be a list of {length if length is not None else ''} "
                          "numbers".replace("  ", " "))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in values):
        raise SchemaError(f"{what} must hold finite numbers only")


def check_ensemble(ensemble, n_labels: int) -> dict:
    """The ``ensemble`` section: the network's weight in [0, 1] and a TF-IDF + logistic
    regression model as arrays (see :mod:`transferlearn.model.linear`) whose shapes agree,
    with, for the ``prior`` strategy, up to ``MAX_PRIORS`` source models of the same form;
    or, for ``blend``, a mixture of up to ``MAX_MIXTURE`` such models with weights summing
    to 1."""
    check_ensemble_section(ensemble)
    check_linear(ensemble["linear"], n_labels)
    return ensemble


def check_ensemble_section(ensemble) -> None:
    """config.json's own part of the ensemble: the keys and the network's weight."""
    if not isinstance(ensemble, dict) or set(ensemble) != {"weight", "linear"}:
        raise SchemaError("ensemble must be an object with weight and linear")
    _weight(ensemble["weight"], "ensemble weight")


def check_linear(linear, n_labels: int) -> None:
    """An ensemble's linear model (``linear.json``): one model, or a blend's mixture."""
    if isinstance(linear, dict) and "mixture" in linear:
        parts = linear["mixture"]
        if set(linear) != {"mixture"} or not (isinstance(parts, list)
                                              and 2 <= len(parts) <= MAX_MIXTURE):
            raise SchemaError(f"ensemble mixture must be a list of 2 to {MAX_MIXTURE} parts")
        for part in parts:
            if not isinstance(part, dict) or set(part) != {"weight", "model"}:
                raise SchemaError("ensemble mixture parts must be objects with weight and model")
            _weight(part["weight"], "ensemble mixture weight")
            _check_model(part["model"], n_labels)
        if abs(sum(part["weight"] for part in parts) - 1) > 1e-6:
            raise SchemaError("ensemble mixture weights must sum to 1")
    else:
        _check_model(linear, n_labels)


def _weight(weight, what: str) -> None:
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
        raise SchemaError(f"{what} must be a number in [0, 1], got {weight!r}")


def _check_model(linear, n_labels: int) -> None:
    """One linear model of an ensemble, with its source models (a prior's) if any."""
    more = ("priors",) if isinstance(linear, dict) and "priors" in linear else ()
    priors = linear["priors"] if more else []
    if not (isinstance(priors, list) and len(priors) <= MAX_PRIORS):
        raise SchemaError(f"ensemble priors must be a list of at most {MAX_PRIORS} models")
    columns = sum(_check_linear(prior, MAX_PRIOR_CLASSES, "ensemble prior", ())
                  for prior in priors)
    _check_linear(linear, n_labels, "ensemble", more, columns)


def _check_linear(linear, n_labels: int, what: str, more: tuple, extra: int = 0) -> int:
    """One model's arrays (`more`: the optional keys it holds; `extra`: coefficient columns
    after the terms); how many decision columns it gives as a prior."""
    keys = {"terms", "idf", "ngram_range", "coef", "intercept", "classes", *more}
    if not isinstance(linear, dict) or set(linear) != keys:
        raise SchemaError(f"{what} linear must hold exactly {', '.join(sorted(keys))}")
    terms = linear["terms"]
    if not (isinstance(terms, list) and 0 < len(terms) <= MAX_TERMS
            and all(isinstance(t, str) and 0 < len(t) <= MAX_TOKEN_CHARS for t in terms)
            and len(set(terms)) == len(terms)):
        raise SchemaError(f"{what} terms must be 1 to {MAX_TERMS:,} distinct strings")
    _numbers(linear["idf"], f"{what} idf", len(terms))
    low_high = linear["ngram_range"]
    if not (isinstance(low_high, list) and len(low_high) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in low_high)
            and 1 <= low_high[0] <= low_high[1] <= 3):
        raise SchemaError(f"{what} ngram_range must be [low, high] with 1 <= low <= high <= 3")
    classes = linear["classes"]
    if not (isinstance(classes, list) and 2 <= len(classes) <= n_labels
            and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c < n_labels
                    for c in classes) and len(set(classes)) == len(classes)):
        raise SchemaError(f"{what} classes must be 2 to {n_labels} distinct label indices")
    rows = 1 if len(classes) == 2 else len(classes)
    if not isinstance(linear["coef"], list) or len(linear["coef"]) != rows:
        raise SchemaError(f"{what} coef must have {rows} row(s)")
    for row in linear["coef"]:
        _numbers(row, f"{what} coef rows", len(terms) + extra)
    _numbers(linear["intercept"], f"{what} intercept", rows)
    return rows


def config_digest(config: dict) -> str:
    """sha256 of `config` without its own ``config_sha256`` field, as canonical JSON."""
    body = {k: v for k, v in config.items() if k != "config_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
