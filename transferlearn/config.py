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
from dataclasses import dataclass
from typing import Any


@dataclass(kw_only=True)
class DataSettings:
    """Where the rows come from and how they are split."""

    data: Any = None  # path, s3:// URI, bundled name or DataFrame; None: bundled default
    text_col: str | None = None  # guessed when None
    label_col: str | None = None
    neutral_band: float = 0.0  # bundled snippets: drop rows with |score| <= this
    truthful_only: bool = False  # Deceptive Opinion Spam: keep the truthful reviews only
    categorical: list | None = None  # columns that become a token in front of the text
    label_map: dict | None = None  # several sources: {their label: the shared label}
    test_size: float = 0.2  # held out when the data has no split column
    seed: int = 0  # splits, samples, initialisation and batch order


# the encoders of model.encoders' registry, named here so that the scripts' --help needs no
# MXNet import (a test checks that the two agree)
ENCODER_NAMES = ("cnn", "bilstm", "mean", "ngram")


@dataclass(kw_only=True)
class ModelSettings:
    """The network and its preprocessing (a base's; a transfer inherits the base's)."""

    encoder: str = "cnn"  # cnn | bilstm | mean | ngram
    embed_dim: int | None = None  # None: the encoder's (ENCODER_DEFAULTS: 128; ngram 64)
    hidden_size: int = 100  # mean: dense units; bilstm: units per direction
    num_filters: int = 100  # cnn: filters per window size
    dropout: float = 0.5
    embed_dropout: float = 0.5
    max_len: int | None = None  # tokens kept per text; None: from the data (LENGTH_CAP)
    min_freq: int | None = None  # tokens seen fewer times map to <unk>; None: 1, ngram: 2
    ngrams: int | None = None  # n-grams up to this order become tokens; None: 2 for ngram, else 1
    nb_scale: bool | None = None  # naive-Bayes token weights; None: on for ngram, else off
    init_vectors: Any = None  # token vectors file (.vec/GloVe/word2vec, or a pretrain run)


@dataclass(kw_only=True)
class TrainingSettings:
    """The training loop (a base model's)."""

    epochs: int = 10
    batch_size: int | None = None  # None: the encoder's (64; ngram 256)
    lr: float | None = None  # None: the encoder's (1e-3; ngram 4e-3)
    weight_decay: float = 0.0
    patience: int | None = 3  # epochs without improvement before stopping; None: never
    val_size: float = 0.1  # share of the training rows held out for early stopping
    # batches of similar-length rows, cut to their bucket's width: this many buckets; 0: off;
    # None: automatic (up to 10 when padding fills over 10% of the id matrix)
    length_buckets: int | None = None


@dataclass(kw_only=True)
class TransferTraining(TrainingSettings):
    """The training loop of a transfer: fewer rows, so smaller batches and more epochs, and
    the best epoch by validation loss (accuracy on a few rows moves in large steps)."""

    epochs: int = 15
    batch_size: int | None = 32
    lr: float | None = 1e-3
    patience: int | None = 4
    val_size: float = 0.15
    monitor: str = "loss"


@dataclass(kw_only=True)
class TransferSettings:
    """How the target network starts from the base and what trains at which rate."""

    base: Any = "runs/base"  # the base bundle (local or s3://)
    strategy: str = "fine-tune"  # a registered strategy (transferlearn.transfer.strategies)
    train_size: int | None = None  # labelled target rows (validation included); None: all
    vocab_mode: str = "extend"  # extend: source + new target tokens; target: target only
    body_lr_mult: float = 0.5  # fine-tune: learning-rate factor of embedding and encoder
    head_lr_mult: float = 10.0  # feature-extract: factor of the new output layer
    discriminative_factor: float = 2.6  # gradual: each lower group's rate divided by this
    scratch_check: bool = False  # also train scratch on the same rows (transfer.py: on)
    label_shift: bool = False  # re-weight outputs to EM-estimated target priors
    target_arch: dict | None = None  # cross-arch / distill: the target network's sizes
    temperature: float = 2.0  # distill: softening of the teacher's outputs
    alpha: float = 0.5  # distill: weight of the teacher's targets
    unlabeled: Any = None  # dann/coral/mmd: more target texts
    source_data: Any = None  # dann/coral/mmd/joint/prior/blend: labelled source rows (the base's)
    source_rows: int = 4000  # dann/coral/mmd/joint: at most this many source rows
    adapt_weight: float = 1.0  # dann/coral/mmd: weight of the alignment loss
    target_share: float = 0.5  # joint: the target rows' share of the training rows
    category_map: dict | None = None  # a new category starts at a base category's vector
    cv_folds: int = 3  # auto / ensemble: folds of the labelled rows that choose
    # how a strategy's epochs are chosen: "cv" (folds of the labelled rows, then a refit on
    # all of them), "validation" (early stopping on the validation split) or "auto" (cv when
    # the validation split has under 100 rows: early stopping on fewer is noise)
    select_epochs: str = "auto"


@dataclass(kw_only=True)
class RunSettings:
    """Where the result goes and what runs it."""

    out: Any = None  # bundle directory (local or s3://); None: train and score only
    resume: bool = False  # continue from the last checkpoint in OUT/checkpoints
    gpus: list | None = None  # GPU indices; each batch is split across them
    kvstore: str = "device"  # device | dist_sync | dist_async
    overwrite: bool = False  # replace output files of the tool's names that it did not write
    verbose: bool = True


@dataclass(kw_only=True)
class BaseRun(RunSettings, TrainingSettings, ModelSettings, DataSettings):
    """Every setting of :func:`~transferlearn.experiments.train_base`."""

    out: Any = "runs/base"


@dataclass(kw_only=True)
class TransferRun(RunSettings, TransferSettings, TransferTraining, DataSettings):
    """Every setting of :func:`~transferlearn.experiments.transfer`."""

    out: Any = "runs/target"
    test_size: float = 0.2


@dataclass(kw_only=True)
class PretrainRun:
    """Every setting of :func:`~transferlearn.experiments.pretrain`: skip-gram token vectors
    (gensim's word2vec) learned from unlabelled text."""

    data: Any = None  # a source or a list: tables, .txt (one text per line), aclImdb trees
    text_col: str | None = None
    out: Any = "runs/vectors"
    embed_dim: int = 128  # the base's embed_dim, so the vectors fit it as they are
    window: int = 5
    min_count: int = 2  # tokens seen fewer times get no vector
    epochs: int = 5
    negative: int = 5  # negative samples per positive pair
    workers: int | None = None  # threads; None: every core (results then vary a little)
    seed: int = 0
    overwrite: bool = False  # replace output files of the tool's names that it did not write
    verbose: bool = True


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


MODEL = ModelSettings()
TRAINING = TrainingSettings()

__all__ = ["BaseRun", "ENCODER_NAMES", "DataSettings", "MODEL", "ModelSettings", "PretrainRun",
           "RunSettings",
           "TRAINING", "TrainingSettings", "ENCODER_DEFAULTS", "encoder_default",
           "fill_defaults", "length_cap", "TransferRun", "TransferSettings", "TransferTraining",
           "fields", "frame_name", "plain", "signature"]
