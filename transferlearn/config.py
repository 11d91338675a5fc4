"""Settings as dataclasses: one home for every default.

The runs (:func:`~transferlearn.experiments.train_base`,
:func:`~transferlearn.experiments.transfer`), the scripts' flags, the network
(:class:`~transferlearn.model.TextClassifier`) and the sklearn estimator all take their
defaults from here, and a run's ``config.json`` and checkpoint fingerprint are its settings
object written out. A test checks that the scripts' flags and these fields agree.

Groups: :class:`DataSettings` (where the rows come from and how they are split),
:class:`ModelSettings` (the network and its preprocessing), :class:`TrainingSettings` (the
loop), :class:`TransferSettings` (how the target starts from the base) and
:class:`RunSettings` (where the result goes, devices). :class:`BaseRun` and
:class:`TransferRun` are the full settings of the two runs.
"""
from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass
from typing import Any


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
# Sizes a bundle may have and still load (bundle.schema's bounds): no run saves a bundle that
# load_bundle would then refuse.
MAX_WIDTH, MAX_LEN = 8192, 10_000
MAX_SOURCES = 8  # labelled source sets a run reads as priors: the source models a bundle holds
WIDTH = Bound(1, MAX_WIDTH, integer=True)
SEED = Bound(0, 2**32 - 1, integer=True)


def setting(default, bound: Bound | None = None, *, fingerprint: bool = True,
            input: bool = False):
    """A settings field: its `default`; its range (``checks.BOUNDS``, ``--flag`` types);
    whether a checkpoint's fingerprint includes it (resuming with another value is refused);
    whether it names an input, which ``--out`` may neither be, contain nor lie inside."""
    return dataclasses.field(default=default, metadata={"bound": bound, "fingerprint":
                                                        fingerprint, "input": input})


@dataclass(kw_only=True)
class DataSettings:
    """Where the rows come from and how they are split."""

    # path, s3:// URI, bundled name or DataFrame; None: bundled default
    data: Any = setting(None, fingerprint=False, input=True)
    text_col: str | None = None  # guessed when None
    label_col: str | None = None
    # bundled snippets: drop rows with |score| <= this
    neutral_band: float = setting(0.0, NON_NEGATIVE)
    truthful_only: bool = False  # Deceptive Opinion Spam: keep the truthful reviews only
    categorical: list | None = None  # columns that become a token in front of the text
    label_map: dict | None = None  # several sources: {their label: the shared label}
    test_size: float = setting(0.2, SHARE)  # held out when the data has no split column
    seed: int = setting(0, SEED)  # splits, samples, initialisation and batch order


# the encoders of model.encoders' registry, named here so that the scripts' --help needs no
# MXNet import (a test checks that the two agree)
ENCODER_NAMES = ("cnn", "bilstm", "mean", "ngram")


@dataclass(kw_only=True)
class ModelSettings:
    """The network and its preprocessing (a base's; a transfer inherits the base's)."""

    encoder: str = "cnn"  # cnn | bilstm | mean | ngram
    # None: the encoder's (ENCODER_DEFAULTS: 128; ngram 64)
    embed_dim: int | None = setting(None, WIDTH)
    hidden_size: int = setting(100, WIDTH)  # mean: dense units; bilstm: units per direction
    num_filters: int = setting(100, WIDTH)  # cnn: filters per window size
    dropout: float = setting(0.5, DROPOUT)
    embed_dropout: float = setting(0.5, DROPOUT)
    # tokens kept per text; None: from the data (LENGTH_CAP)
    max_len: int | None = setting(None, Bound(1, MAX_LEN, integer=True))
    # tokens seen fewer times map to <unk>; None: 1, ngram: 2
    min_freq: int | None = setting(None, COUNT)
    # n-grams up to this order become tokens; None: 2 for ngram, else 1
    ngrams: int | None = setting(None, Bound(1, 4, integer=True))
    nb_scale: bool | None = None  # naive-Bayes token weights; None: on for ngram, else off
    # token vectors file (.vec/GloVe/word2vec, or a pretrain run)
    init_vectors: Any = setting(None, input=True)


@dataclass(kw_only=True)
class TrainingSettings:
    """The training loop (a base model's)."""

    epochs: int = setting(10, COUNT)
    batch_size: int | None = setting(None, COUNT)  # None: the encoder's (64; ngram 256)
    lr: float | None = setting(None, POSITIVE)  # None: the encoder's (1e-3; ngram 4e-3)
    weight_decay: float = setting(0.0, NON_NEGATIVE)
    # epochs without improvement before stopping; None: never
    patience: int | None = setting(3, COUNT)
    # share of the training rows held out for early stopping
    val_size: float = setting(0.1, Bound(0, 1, high_inclusive=False))
    # batches of similar-length rows, cut to their bucket's width: this many buckets; 0: off;
    # None: automatic (up to 10 when padding fills over 10% of the id matrix)
    length_buckets: int | None = setting(None, Bound(0, 100, integer=True))


@dataclass(kw_only=True)
class TransferTraining(TrainingSettings):
    """The training loop of a transfer: fewer rows, so smaller batches and more epochs, and
    the best epoch by validation loss (accuracy on a few rows moves in large steps)."""

    epochs: int = setting(15, COUNT)
    batch_size: int | None = setting(32, COUNT)
    lr: float | None = setting(1e-3, POSITIVE)
    patience: int | None = setting(4, COUNT)
    val_size: float = setting(0.15, Bound(0, 1, high_inclusive=False))
    monitor: str = "loss"


@dataclass(kw_only=True)
class TransferSettings:
    """How the target network starts from the base and what trains at which rate."""

    # the base bundle (local or s3://)
    base: Any = setting("runs/base", fingerprint=False, input=True)
    strategy: str = "fine-tune"  # a registered strategy (transferlearn.transfer.strategies)
    # labelled target rows (validation included); None: all
    train_size: int | None = setting(None, Bound(0, integer=True))
    vocab_mode: str = "extend"  # extend: source + new target tokens; target: target only
    # fine-tune: learning-rate factor of embedding and encoder
    body_lr_mult: float = setting(0.5, NON_NEGATIVE)
    head_lr_mult: float = setting(10.0, POSITIVE)  # feature-extract: factor of the new output layer
    # gradual: each lower group's rate divided by this
    discriminative_factor: float = setting(2.6, POSITIVE)
    # also train scratch on the same rows (transfer.py: on)
    scratch_check: bool = setting(False, fingerprint=False)
    label_shift: bool = False  # re-weight outputs to EM-estimated target priors
    target_arch: dict | None = None  # cross-arch / distill: the target network's sizes
    temperature: float = setting(2.0, POSITIVE)  # distill: softening of the teacher's outputs
    alpha: float = setting(0.5, Bound(0, 1))  # distill: weight of the teacher's targets
    unlabeled: Any = setting(None, input=True)  # dann/coral/mmd: more target texts
    # dann/coral/mmd/joint/prior/blend: labelled source rows (the base's)
    source_data: Any = setting(None, input=True)
    source_rows: int = setting(4000, COUNT)  # dann/coral/mmd/joint: at most this many source rows
    adapt_weight: float = setting(1.0, NON_NEGATIVE)  # dann/coral/mmd: weight of the alignment loss
    target_share: float = setting(0.5, SHARE)  # joint: the target rows' share of the training rows
    category_map: dict | None = None  # a new category starts at a base category's vector
    # auto / ensemble: folds of the labelled rows that choose
    cv_folds: int = setting(3, Bound(2, 20, integer=True))
    # how a strategy's epochs are chosen: "cv" (folds of the labelled rows, then a refit on
    # all of them), "validation" (early stopping on the validation split) or "auto" (cv when
    # the validation split has under 100 rows: early stopping on fewer is noise)
    select_epochs: str = "auto"


@dataclass(kw_only=True)
class RunSettings:
    """Where the result goes and what runs it."""

    # bundle directory (local or s3://); None: train and score only
    out: Any = setting(None, fingerprint=False)
    # continue from the last checkpoint in OUT/checkpoints
    resume: bool = setting(False, fingerprint=False)
    # GPU indices; each batch is split across them
    gpus: list | None = setting(None, fingerprint=False)
    kvstore: str = setting("device", fingerprint=False)  # device | dist_sync | dist_async
    # replace output files of the tool's names that it did not write
    overwrite: bool = setting(False, fingerprint=False)
    verbose: bool = setting(True, fingerprint=False)


@dataclass(kw_only=True)
class BaseRun(RunSettings, TrainingSettings, ModelSettings, DataSettings):
    """Every setting of :func:`~transferlearn.experiments.train_base`."""

    out: Any = setting("runs/base", fingerprint=False)


@dataclass(kw_only=True)
class TransferRun(RunSettings, TransferSettings, TransferTraining, DataSettings):
    """Every setting of :func:`~transferlearn.experiments.transfer`."""

    out: Any = setting("runs/target", fingerprint=False)
    test_size: float = setting(0.2, SHARE)


@dataclass(kw_only=True)
class PretrainRun:
    """Every setting of :func:`~transferlearn.experiments.pretrain`: skip-gram token vectors
    (gensim's word2vec) learned from unlabelled text."""

    # a source or a list: tables, .txt (one text per line), aclImdb trees
    data: Any = setting(None, fingerprint=False, input=True)
    text_col: str | None = None
    out: Any = setting("runs/vectors", fingerprint=False)
    embed_dim: int = setting(128, WIDTH)  # the base's embed_dim, so the vectors fit it as they are
    window: int = setting(5, Bound(1, 100, integer=True))
    min_count: int = setting(2, COUNT)  # tokens seen fewer times get no vector
    epochs: int = setting(5, COUNT)
    negative: int = setting(5, Bound(1, 100, integer=True))  # negative samples per positive pair
    # threads; None: every core (results then vary a little)
    workers: int | None = setting(None, Bound(1, 256, integer=True))
    seed: int = setting(0, SEED)
    # replace output files of the tool's names that it did not write
    overwrite: bool = setting(False, fingerprint=False)
    verbose: bool = setting(True, fingerprint=False)


def fields(cls) -> dict:
    """Field name -> default of a settings class (None for a field without one)."""
    return {f.name: (f.default if f.default is not dataclasses.MISSING else None)
            for f in dataclasses.fields(cls)}


def signature(cls) -> inspect.Signature:
    """A keyword-only signature with `cls`'s fields and defaults, for functions that take
    their settings as ``**kwargs`` (so ``help()`` and ``inspect`` show the real ones)."""
    return inspect.Signature([inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                                default=default)
                              for name, default in fields(cls).items()])


FRAME_PREFIX = "<DataFrame of "


def frame_name(frame) -> str:
    """How data given as a DataFrame is named in settings, metrics and messages."""
    return f"{FRAME_PREFIX}{len(frame):,} rows>"


def plain(settings) -> dict:
    """The settings as a JSON-able dict (a DataFrame as data becomes its description)."""
    import pandas as pd

    out = {}
    for key in (f.name for f in dataclasses.fields(settings)):
        value = getattr(settings, key)
        if isinstance(value, pd.DataFrame):
            value = frame_name(value)
        elif not isinstance(value, (str, int, float, bool, list, dict, tuple, type(None))):
            value = str(getattr(value, "path", value))  # a loaded Bundle: where it came from
        out[key] = value
    return out


# What a base's setting left at None takes, by encoder ("" for every other). max_len "data":
# the 95th percentile of the training texts' token counts, rounded up to a multiple of 64,
# from 64 to the encoder's cap. A bag's cost barely grows with length (its step reads each
# row's n-grams once, see training.steps.BagCrossEntropy), so it reads whole reviews, up to
# 1,024 tokens; a CNN's or LSTM's cost grows with every position, so they stop at 256 (the
# movie and Amazon snippets, 95th percentile 38-41 tokens, get 64 as before; IMDB's reviews
# 256). The ngram row (IMDB, 2 cores, docs/speed.md): batches of 256 at 4e-3 take 2 s an
# epoch against 4 s for 64 at 1e-3, to the same accuracy; a 64-wide table halves a 128-wide
# one's memory for 0.002 less; bigrams seen once are a third of the table and noise.
ENCODER_DEFAULTS: dict[str, dict[str, Any]] = {
    "": {"embed_dim": 128, "max_len": "data", "min_freq": 1, "batch_size": 64, "lr": 1e-3},
    "ngram": {"embed_dim": 64, "max_len": "data", "min_freq": 2, "batch_size": 256,
              "lr": 4e-3},
}
LENGTH_PERCENTILE, LENGTH_STEP = 95, 64
LENGTH_CAP = {"": 256, "ngram": 1024}  # tokens at most, by encoder


def encoder_default(name: str, encoder: str, lengths=None):
    """The value setting `name` takes when left at None for `encoder`; `lengths` (a
    callable giving token counts of training texts) for a setting fitted to the data."""
    value = ENCODER_DEFAULTS.get(encoder, ENCODER_DEFAULTS[""])[name]
    if value != "data":
        return value
    import numpy as np

    counts = np.asarray(lengths() if lengths is not None else [], dtype=float)
    if not len(counts):
        return LENGTH_STEP
    top = float(np.percentile(counts, LENGTH_PERCENTILE))
    return int(min(length_cap(encoder), max(LENGTH_STEP, -(-top // LENGTH_STEP) * LENGTH_STEP)))


def length_cap(encoder: str) -> int:
    """The most tokens a max_len fitted to the data gives `encoder` (:data:`LENGTH_CAP`)."""
    return LENGTH_CAP.get(encoder, LENGTH_CAP[""])


def fill_defaults(settings, lengths=None):
    """`settings` with every None of :data:`ENCODER_DEFAULTS` filled for its encoder, and a
    dict of what was filled (for the run's log)."""
    chosen = {name: encoder_default(name, settings.encoder, lengths)
              for name in ENCODER_DEFAULTS[""] if getattr(settings, name, 0) is None}
    return dataclasses.replace(settings, **chosen), chosen


SETTINGS = (DataSettings, ModelSettings, TrainingSettings, TransferTraining, TransferSettings,
            RunSettings, PretrainRun)


def _marked(key: str) -> dict:
    """Field name -> its `key` metadata, over every settings class (a field that several
    classes share says the same in each; a test checks it)."""
    return {f.name: f.metadata[key] for cls in SETTINGS for f in dataclasses.fields(cls)
            if key in f.metadata}


def bounds() -> dict[str, Bound]:
    """Every setting's range, by name."""
    return {name: bound for name, bound in _marked("bound").items() if bound is not None}


def not_fingerprinted() -> tuple[str, ...]:
    """Settings a checkpoint's fingerprint leaves out (where things go, devices, inputs
    whose content is fingerprinted instead)."""
    return tuple(name for name, kept in _marked("fingerprint").items() if not kept)


def input_settings() -> tuple[str, ...]:
    """Settings that name local inputs: ``--out`` may neither be, contain nor lie inside."""
    return tuple(name for name, is_input in _marked("input").items() if is_input)


MODEL = ModelSettings()
TRAINING = TrainingSettings()
TRANSFER = TransferSettings()

__all__ = ["BaseRun", "ENCODER_NAMES", "DataSettings", "MODEL", "ModelSettings", "PretrainRun",
           "RunSettings",
           "TRAINING", "TRANSFER", "TrainingSettings", "ENCODER_DEFAULTS", "encoder_default",
           "fill_defaults", "length_cap", "TransferRun", "TransferSettings", "TransferTraining",
           "fields", "frame_name", "plain", "signature"]
