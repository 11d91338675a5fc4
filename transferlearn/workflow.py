"""End-to-end runs as functions: train a base model, transfer it, compare strategies.

The scripts, the notebooks and the tests all call these; every setting is a keyword argument
and every function returns its metrics as a dict (also written to ``OUT/metrics.json``).
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import time
from dataclasses import dataclass, field
from pathlib import Path

import mxnet as mx
import numpy as np
import pandas as pd

from . import distributed
from ._runtime import runtime_line
from .adaptation import fit_adapted
from .checkpoint import Checkpointer, fingerprint
from .checks import check_settings
from .curves import (
    CURVE_COLUMNS,
    curve_table,
    mark_negative_transfer,
    negative_transfer_warnings,
    plot_curve,
    summarise,
)
from .data import (
    DEFAULT_SOURCE,
    DEFAULT_TARGET,
    check_classes,
    load_dataset,
    split_train_test,
    take_labelled,
    unlabeled_texts,
)
from .errors import DataError, redact
from .model import TextClassifier, named_parameters, summary
from .persistence import Bundle, load_bundle, save_bundle, write_json
from .storage import atomic_write, check_output, is_remote, output_dir, output_lock
from .strategies import (
    REFERENCE,
    STRATEGIES,
    Strategy,
    Target,
    adapting_names,
    prepare_target,
)
from .strategies import get as get_strategy
from .text import make_pipeline
from .train import (
    device_contexts,
    evaluate,
    fit,
    predict_logits,
    predict_proba,
    scores,
)
from .transfer import (
    category_report,
    estimate_target_priors,
    label_order,
)

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



NOT_FINGERPRINTED = ("out", "resume", "kvstore", "gpus", "data", "base", "scratch_check")


def _training_options(out, X, y, settings: dict, resume: bool, kvstore, gpus,
                      verbose: bool) -> dict:
    """The keyword arguments of :func:`~transferlearn.train.fit` for devices, the kvstore
    and per-epoch checkpoints (rank 0 only; none when `out` is None)."""
    cluster = distributed.cluster(kvstore)
    options = {"ctx": device_contexts(gpus), "kvstore": cluster.kvstore, "checkpoint": None,
               "resume": False}
    if cluster.num_workers > 1:
        _log(verbose, f"distributed: {cluster.num_workers} workers ({kvstore}); each takes "
                      f"1/{cluster.num_workers} of every batch")
        if resume:
            raise DataError("--resume is not supported with a distributed kvstore")
    if out is None or cluster.rank != 0:
        return options
    kept = {k: v for k, v in settings.items() if k not in NOT_FINGERPRINTED}
    options["checkpoint"] = Checkpointer(checkpoint_dir(out), fingerprint(X, y, kept))
    options["resume"] = resume
    return options


def _save_run(out, checkpoint, net, pipe, labels, metrics, kind, settings, verbose) -> bool:  # noqa: PLR0913
    """Write the bundle of a run that checkpoints (rank 0 with an `out`), then drop the
    checkpoints; returns whether it wrote. `kind` names the settings in config.json."""
    if checkpoint is None:
        return False
    with output_dir(out, quiet=not verbose) as local:
        save_bundle(local, net, pipe, labels, metrics,
                    extra={kind: {k: v for k, v in settings.items() if k != "out"}})
    checkpoint.clear()
    return True


def checkpoint_dir(out) -> Path:
    """Where a run writing to `out` keeps its per-epoch checkpoints: ``OUT/checkpoints`` for
    a local `out` (the final bundle replaces it), a local cache directory for ``s3://``."""
    if is_remote(out):
        from .s3 import cache_root

        key = hashlib.sha256(str(out).encode()).hexdigest()[:16]
        return cache_root() / "checkpoints" / key
    return Path(out).expanduser() / "checkpoints"


@_locked
def train_base(data=None, text_col=None, label_col=None, out="runs/base", encoder="cnn",  # noqa: PLR0913
               embed_dim=128, hidden_size=100, num_filters=100, dropout=0.5,
               embed_dropout=0.5, max_len=64, min_freq=1, epochs=10, batch_size=64, lr=1e-3,
               weight_decay=0.0, patience=3, test_size=0.2, val_size=0.1, seed=0,
               neutral_band=0.0, truthful_only=False, categorical=None, resume=False,
               gpus=None, kvstore="device", verbose=True) -> dict:
    """Train a base classifier on `data` (bundled movie snippets by default) and save it to `out`.

    Holds out a stratified test split (or uses the data's ``split`` column), takes a
    validation split from the training rows for early stopping, and writes the bundle with
    ``metrics.json`` (accuracy, roc_auc, n_train, n_val, n_test, history) to `out`.

    `categorical` columns (e.g. ``["Device_Used"]``) get a token each in front of the text
    and so their own embeddings (see :func:`transferlearn.data.with_categories`).

    A checkpoint is written after every epoch; with `resume`, a killed run continues from
    its last one (same result as an uninterrupted run). `gpus` (e.g. ``[0, 1]``) splits each
    batch across GPUs; `kvstore` ``"dist_sync"``/``"dist_async"`` trains as one worker of a
    distributed run (see :mod:`transferlearn.launch`), where rank 0 writes the bundle.
    """
    settings = {k: v for k, v in locals().items() if k != "verbose"}
    verbose = verbose and distributed.rank(kvstore) == 0
    _log(verbose, _settings_line("train_base", settings))
    _log(verbose, runtime_line())
    started = time.perf_counter()
    df, labels = _load(data, DEFAULT_SOURCE, text_col, label_col, neutral_band, verbose,
                       truthful_only, categorical)
    train_df, test_df = split_train_test(df, test_size, seed)
    train_df, val_df = _split_validation(train_df, val_size, seed)
    pipe = make_pipeline(max_len=max_len, min_freq=min_freq)
    X_train = pipe.fit_transform(train_df["text"])
    X_val, X_test = pipe.transform(val_df["text"]), pipe.transform(test_df["text"])
    y_train, y_val, y_test = (_encode_labels(d["label"], labels, str(data))
                              for d in (train_df, val_df, test_df))
    vocab = pipe.named_steps["index"].vocab_
    mx.random.seed(seed)
    net = TextClassifier(len(vocab), len(labels), embed_dim=embed_dim, encoder=encoder,
                         hidden_size=hidden_size, num_filters=num_filters, dropout=dropout,
                         embed_dropout=embed_dropout)
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    _log(verbose, f"vocabulary {len(vocab):,} tokens; {len(X_train):,} train / "
                  f"{len(X_val):,} validation / {len(X_test):,} test rows")
    _log(verbose, summary(net))
    options = _training_options(out, X_train, y_train, settings, resume, kvstore, gpus, verbose)
    history = fit(net, X_train, y_train, X_val, y_val, num_epochs=epochs,
                  batch_size=batch_size, lr=lr, weight_decay=weight_decay, patience=patience,
                  random_state=seed, verbose=verbose, **options)
    test = evaluate(net, X_test, y_test)
    metrics = {"accuracy": test["accuracy"], "roc_auc": test["roc_auc"],
               "loss": test["loss"], "n_train": len(X_train), "n_val": len(X_val),
               "n_test": len(X_test), "best_epoch": history.best_epoch,
               "train_seconds": round(history.seconds, 2),
               "total_seconds": round(time.perf_counter() - started, 2),
               "data": str(DEFAULT_SOURCE if data is None else data),
               "labels": labels,
               "train_label_counts": {lab: int((y_train == i).sum())
                                      for i, lab in enumerate(labels)},
               "history": history.epochs}
    if _save_run(out, options["checkpoint"], net, pipe, labels, metrics, "training",
                 settings, verbose):
        _log(verbose, f"test accuracy {test['accuracy']:.4f}, ROC AUC {test['roc_auc']:.4f}; "
                      f"bundle written to {out}")
    return metrics


def _target_splits(data, text_col, label_col, train_size, test_size, val_size, seed,  # noqa: PLR0913
                   neutral_band, verbose, truthful_only=False, _loaded=None, categorical=None):
    df, labels = _loaded or _load(data, DEFAULT_TARGET, text_col, label_col, neutral_band,
                                  verbose, truthful_only, categorical)
    train_all, test_df = split_train_test(df, test_size, seed)
    if train_size == 0:  # domain adaptation from unlabelled target texts only
        train_df = val_df = train_all.iloc[:0].reset_index(drop=True)
        rest = train_all
    else:
        labelled, rest = take_labelled(train_all, train_size, seed, return_rest=True)
        check_classes(labelled, f"{data or DEFAULT_TARGET} (the {len(labelled)} training rows)")
        train_df, val_df = _split_validation(labelled, val_size, seed)
    train_df.attrs["unlabeled"] = rest["text"].tolist()  # target texts whose labels go unused
    train_df.attrs["categories"] = df.attrs.get("categories", {})
    return labels, train_df, val_df, test_df


def target_splits(data=None, train_size=None, test_size=0.2, val_size=0.15, seed=0,  # noqa: PLR0913
                  text_col=None, label_col=None, neutral_band=0.0, truthful_only=False,
                  verbose=False):
    """The target splits :func:`transfer` and :func:`compare` use with the same arguments.

    Returns ``(labels, train_df, val_df, test_df)``; `train_size` caps train + validation.
    """
    return _target_splits(data, text_col, label_col, train_size, test_size, val_size, seed,
                          neutral_band, verbose, truthful_only)


@_locked
def transfer(base="runs/base", data=None, text_col=None, label_col=None, out="runs/target",  # noqa: PLR0913
             strategy="fine-tune", train_size=None, vocab_mode="extend", epochs=15,
             batch_size=32, lr=1e-3, body_lr_mult=0.5, head_lr_mult=10.0, weight_decay=0.0,
             patience=4, monitor="loss", test_size=0.2, val_size=0.15, seed=0, neutral_band=0.0,
             discriminative_factor=2.6,
             truthful_only=False, scratch_check=False, label_shift=False, target_arch=None,
             temperature=2.0, alpha=0.5, unlabeled=None, source_data=None, source_rows=4000,
             adapt_weight=1.0, categorical=None, category_map=None, resume=False,
             gpus=None, kvstore="device", verbose=True, _base_bundle=None,
             _splits=None) -> dict:
    """Transfer the base bundle at `base` to `data` (bundled Amazon snippets by default).

    Parameters
    ----------
    strategy : str
        A registered strategy (see :mod:`transferlearn.strategies` and each one's ``help``):
        how the target network starts from the base (:func:`prepare_target`), what trains at
        which rate (`body_lr_mult`, `head_lr_mult`, `discriminative_factor`), and its step.
    out : str or None
        Bundle directory (local or ``s3://``); None trains and scores without saving.
    train_size : int, optional
        Cap on the labelled target rows (validation included; the test split stays the
        same); 0 only for strategies that align domains.
    vocab_mode : {"extend", "target"}
        ``extend``: source tokens + new target tokens; ``target``: target tokens only.
    scratch_check : bool
        Also train scratch on the same rows (not saved), ``metrics["scratch_check"]``.
    target_arch : dict, optional
        Sizes for strategies that take them (``cross-arch``: the base resized, reported as
        ``metrics["cross_arch"]``; ``distill``: the student).
    temperature, alpha, unlabeled, source_data, source_rows, adapt_weight :
        Distillation (`base` is the teacher); domain alignment (more target texts, labelled
        source rows, by default from the base's data, the alignment loss's weight).
    categorical, category_map :
        As in :func:`train_base`; `category_map` names the base category a new one starts
        from (``metrics["categories"]``).
    label_shift : bool
        Re-weight the outputs to target priors estimated by EM on the unlabelled test texts
        (``metrics["label_shift"]``, a ``<strategy>+priors`` row).
    resume, gpus, kvstore :
        As in :func:`train_base` (checkpoints each epoch when `out` is set).
    """
    settings = {k: v for k, v in locals().items() if k != "verbose" and not k.startswith("_")}
    verbose = verbose and distributed.rank(kvstore) == 0
    if scratch_check and distributed.is_distributed(kvstore):
        _log(verbose, "scratch check skipped: it does not run on a distributed kvstore")
        scratch_check = False
    _log(verbose, _settings_line("transfer", settings))
    _log(verbose and _splits is None, runtime_line())
    started = time.perf_counter()
    bundle = _base_bundle or load_bundle(base)
    splits = _splits or _target_splits(
        data, text_col, label_col, train_size, test_size, val_size, seed, neutral_band, verbose,
        truthful_only, categorical=categorical)
    job = _TransferJob(bundle, get_strategy(strategy), splits, settings, verbose)
    history = _train_target(job)
    metrics = _transfer_metrics(job, history, started)
    if scratch_check and job.strategy.uses_base:
        metrics["scratch_check"] = _scratch_check(job)
    return _finish(job, metrics)


@dataclass
class _TransferJob:
    """One transfer run's inputs, and what it prepares on the way."""

    bundle: Bundle
    strategy: Strategy
    splits: tuple  # (labels, train_df, val_df, test_df)
    settings: dict  # transfer()'s keyword arguments
    verbose: bool
    target: Target = field(init=False)
    X: dict = field(default_factory=dict)  # {"train", "val", "test"}: token ids
    y: dict = field(default_factory=dict)  # {"train", "val", "test"}: label indices
    options: dict = field(default_factory=dict)  # fit's devices, kvstore, checkpoints
    fit_labels: np.ndarray | None = None  # the labels the model learns the balance of
    teacher: np.ndarray | None = None  # distillation: the teacher's logits on train

    @property
    def labels(self) -> list:
        return self.splits[0]

    @property
    def origin(self) -> str:
        return str(self.settings["data"] or DEFAULT_TARGET)


def _prepare(job: _TransferJob) -> list[str]:
    """Build the target network (:func:`prepare_target`) and encode the splits; returns the
    target-domain texts a domain-aligning strategy learns from (else none)."""
    labels, train_df, val_df, test_df = job.splits
    s, chosen = job.settings, job.strategy
    if len(train_df) == 0 and chosen.needs_labels:
        raise DataError(f"strategy {chosen.name} needs labelled target rows; with --train-size "
                        f"0 use one that learns from unlabelled texts: "
                        f"{', '.join(adapting_names())}")
    domain_texts = (_domain_texts(train_df, val_df, s["unlabeled"], job.verbose)
                    if chosen.adapts else [])
    job.target = prepare_target(
        job.bundle, chosen, list(train_df["text"]) + domain_texts, labels,
        vocab_mode=s["vocab_mode"], target_arch=s["target_arch"],
        category_map=s["category_map"], seed=s["seed"], body_lr_mult=s["body_lr_mult"],
        head_lr_mult=s["head_lr_mult"], discriminative_factor=s["discriminative_factor"])
    for note in job.target.notes:
        _log(job.verbose, note)
    _log(job.verbose, str(job.target.vocabulary))
    _log(job.verbose, summary(job.target.net))
    for name, df in zip(("train", "val", "test"), (train_df, val_df, test_df), strict=True):
        job.X[name] = job.target.pipeline.transform(df["text"])
        job.y[name] = _encode_labels(df["label"], labels, job.origin)
    if chosen.teacher:
        job.teacher = _teacher_logits(job.bundle, train_df, labels)
    job.options = _training_options(s["out"], job.X["train"], job.y["train"], s, s["resume"],
                                    s["kvstore"], s["gpus"], job.verbose)
    job.fit_labels = np.concatenate([job.y["train"], job.y["val"]])
    return domain_texts


def _train_target(job: _TransferJob):
    """Prepare the target, then train it with the strategy's step: cross-entropy (with the
    strategy's schedules), distillation from the base's logits, or domain alignment."""
    domain_texts = _prepare(job)
    s, X, y, net = job.settings, job.X, job.y, job.target.net
    common = {"num_epochs": s["epochs"], "batch_size": s["batch_size"], "lr": s["lr"],
              "weight_decay": s["weight_decay"], "patience": s["patience"],
              "monitor": s["monitor"], "random_state": s["seed"], "verbose": job.verbose}
    if not job.strategy.adapts:
        return fit(net, X["train"], y["train"], X["val"], y["val"], **common,
                   **job.target.schedules(), soft_targets=job.teacher,
                   temperature=s["temperature"], alpha=s["alpha"], **job.options)
    X_src, y_src = _source_rows(job.bundle, s["source_data"], s["source_rows"], job.labels,
                                job.target.pipeline, s["seed"], job.verbose)
    job.fit_labels = np.concatenate([y_src, y["train"]])
    _log(job.verbose, f"{job.strategy.name}: {len(X_src):,} labelled source rows, "
                      f"{len(X['train']):,} labelled target rows, {len(domain_texts):,} "
                      "target texts")
    return fit_adapted(net, X_src, y_src, job.target.pipeline.transform(domain_texts),
                       str(job.strategy.alignment), X["train"], y["train"], X["val"], y["val"],
                       weight=s["adapt_weight"], **common)


def _transfer_metrics(job: _TransferJob, history, started: float) -> dict:
    """The run's metrics: test scores, sizes, how the target came from the base, history,
    and the reports its settings ask for (categories, distillation, cross-arch, label shift)."""
    target, labels, verbose = job.target, job.labels, job.verbose
    train_df, test_df = job.splits[1], job.splits[3]
    test = evaluate(target.net, job.X["test"], job.y["test"])
    metrics = {"strategy": job.strategy.name, "accuracy": test["accuracy"],
               "roc_auc": test["roc_auc"], "loss": test["loss"],
               "n_train": len(job.X["train"]), "n_val": len(job.X["val"]),
               "n_test": len(job.X["test"]), "best_epoch": history.best_epoch,
               "train_seconds": round(history.seconds, 2),
               "total_seconds": round(time.perf_counter() - started, 2),
               "base": str(job.settings["base"]), "data": job.origin, "labels": labels,
               "vocabulary": target.vocabulary.to_dict(), "layers": target.layers,
               "frozen": target.setup["frozen"], "history": history.epochs}
    if train_df.attrs.get("categories"):
        metrics["categories"] = category_report(train_df.attrs["categories"], job.bundle.vocab,
                                                target.vocab, job.settings["category_map"])
        for column, rows in metrics["categories"].items():
            _log(verbose, f"categories of {column}: " + ", ".join(
                f"{value} {how}" for value, how in rows.items()))
    if job.teacher is not None:
        metrics["distill"] = d = distillation_report(job.bundle, target.net, target.pipeline,
                                                     test_df, labels)
        _log(verbose, f"distillation: teacher {d['teacher_accuracy']:.4f} with "
                      f"{d['teacher_params']:,} parameters at {d['teacher_infer_per_s']:,.0f} "
                      f"texts/s; student {test['accuracy']:.4f} with {d['student_params']:,} at "
                      f"{d['student_infer_per_s']:,.0f} texts/s")
    if target.cross_arch is not None:
        metrics["cross_arch"] = {name: {k: list(v) if isinstance(v, tuple) else v
                                        for k, v in r.items()}
                                 for name, r in target.cross_arch.items()}
    if job.settings["label_shift"]:
        metrics["label_shift"] = shift = label_shift_scores(
            target.net, job.X["test"], job.y["test"], job.fit_labels, labels)
        _log(verbose, f"label shift: class priors {shift['train_priors']} in training, "
                      f"estimated {shift['target_priors']} on the target; accuracy "
                      f"{test['accuracy']:.4f} -> {shift['accuracy']:.4f}")
    return metrics


def _finish(job: _TransferJob, metrics: dict) -> dict:
    """Save the run's bundle (when it checkpoints) and say how it did."""
    out = job.settings["out"]
    _save_run(out, job.options["checkpoint"], job.target.net, job.target.pipeline,
              job.labels, metrics, "transfer", job.settings, job.verbose)
    _log(job.verbose, f"[{job.strategy.name}] test accuracy {metrics['accuracy']:.4f}, "
                      f"ROC AUC {metrics['roc_auc']:.4f}"
                      + (f"; bundle written to {out}" if out else ""))
    return metrics


def _scratch_check(job: _TransferJob) -> dict:
    """The reference strategy (scratch) on the same rows, not saved: its scores."""
    _log(job.verbose, "training a scratch model on the same rows to check for negative "
                      "transfer")
    kept = ("vocab_mode", "epochs", "batch_size", "lr", "weight_decay", "patience", "monitor",
            "seed")
    ref = transfer(out=None, strategy=REFERENCE, verbose=False, _base_bundle=job.bundle,
                   gpus=job.settings["gpus"], _splits=job.splits,
                   **{k: job.settings[k] for k in kept})
    return {k: ref[k] for k in ("accuracy", "roc_auc", "train_seconds")}


def _domain_texts(train_df, val_df, unlabeled, verbose) -> list[str]:
    """Target-domain texts for adaptation: the labelled rows' texts, the target rows whose
    labels are not used, and the texts of the file `unlabeled`."""
    texts = list(train_df["text"]) + list(val_df["text"]) + list(
        train_df.attrs.get("unlabeled", []))
    if unlabeled is not None:
        texts += unlabeled_texts(unlabeled, verbose)
    texts = [t for t in map(str, texts) if t.strip()]
    if not texts:
        raise DataError("domain adaptation needs target texts: none found (pass --unlabeled)")
    return texts


def _source_rows(bundle, source_data, source_rows, labels, pipe, seed, verbose):
    """Up to `source_rows` labelled source rows (stratified), encoded for the target model."""
    training = bundle.config.get("training", {})
    own = source_data is None
    data = source_data or training.get("data") or DEFAULT_SOURCE
    df, source_labels = _load(data, DEFAULT_SOURCE, training.get("text_col") if own else None,
                              training.get("label_col") if own else None,
                              training.get("neutral_band", 0.0) if own else 0.0, verbose,
                              training.get("truthful_only", False) if own else False,
                              training.get("categorical") if own else None)
    if label_order(source_labels, labels) is None:
        raise DataError(f"source labels {source_labels} differ from the target's {labels}: "
                        "domain adaptation needs the same label set")
    if source_rows and len(df) > source_rows:
        df = take_labelled(df.drop(columns="split", errors="ignore"), source_rows, seed)
    return pipe.transform(df["text"]), _encode_labels(df["label"], labels, str(data))


def _teacher_logits(teacher, train_df: pd.DataFrame, labels: list) -> np.ndarray:
    """The teacher bundle's logits on the training texts, columns in the target's order."""
    order = label_order(teacher.labels, labels)
    if order is None:
        raise DataError(f"distill: the teacher's labels {teacher.labels} differ from the "
                        f"target's {labels}; distil from a model transferred to this target")
    return predict_logits(teacher.net, teacher.transform(train_df["text"]))[:, order]


def _infer_rate(net, X: np.ndarray, repeats: int = 3) -> float:
    predict_logits(net, X[:512])  # build the inference graph first
    best = min(_timed(lambda: predict_logits(net, X)) for _ in range(repeats))
    return len(X) / best if best > 0 else float("inf")


def _timed(call) -> float:
    tic = time.perf_counter()
    call()
    return time.perf_counter() - tic


def distillation_report(teacher, student, student_pipe, test_df: pd.DataFrame,
                        labels: list) -> dict:
    """Teacher vs student on the test rows: accuracy, parameter count, inference texts/s."""
    y = _encode_labels(test_df["label"], labels, "target")
    order = label_order(teacher.labels, labels)
    X_teacher = teacher.transform(test_df["text"])
    X_student = student_pipe.transform(test_df["text"])
    teacher.net.hybridize(static_alloc=True, static_shape=True)
    size = lambda net: int(sum(np.prod(p.shape) for p in named_parameters(net).values()))  # noqa: E731
    return {"teacher_accuracy": scores(y, predict_proba(teacher.net, X_teacher)[:, order])[
                "accuracy"],
            "teacher_params": size(teacher.net), "student_params": size(student),
            "teacher_infer_per_s": round(_infer_rate(teacher.net, X_teacher), 1),
            "student_infer_per_s": round(_infer_rate(student, X_student), 1)}


def label_shift_scores(net, X_test, y_test, y_fit, labels) -> dict:
    """Scores of `net` on the test rows after EM label-shift correction (labels unused by EM).

    The source priors are the class shares of `y_fit`, the rows `net` was trained on.
    """
    counts = np.bincount(np.asarray(y_fit, dtype=int), minlength=len(labels))
    if counts.sum() == 0:
        raise DataError("label shift needs the training rows' labels")
    train = counts / counts.sum()
    proba = predict_proba(net, X_test)
    if train.min() <= 0:
        raise DataError("label shift needs every class among the training rows")
    result, target = _prior_shift_scores(proba, train, y_test, labels)
    return {**result, "train_priors": _by_label(train, labels), "target_priors": target}


def _prior_shift_scores(proba, train_priors, y, labels) -> tuple[dict, dict]:
    """Scores of `proba` re-weighted to the target priors EM estimates from it (Saerens et
    al. 2002), and those priors by label."""
    target, adjusted = estimate_target_priors(proba, train_priors)
    return scores(y, adjusted), _by_label(target, labels)


def _by_label(values, labels) -> dict:
    return dict(zip(map(str, labels), np.round(values, 4).tolist(), strict=True))


def zero_label_scores(bundle, test_df: pd.DataFrame, labels: list) -> dict:
    """The base model on the target test rows with no target labels, from one prediction pass.

    ``"source-only"``: its outputs as they are. ``"source-only+priors"`` (when the base
    recorded its training class counts): the outputs re-weighted to target class priors
    estimated by EM from the unlabelled test texts (their labels are not used), with the
    estimated ``"priors"``. Empty when the label sets differ.
    """
    order = label_order(bundle.labels, labels)
    if order is None:
        return {}
    proba = bundle.predict_proba(test_df["text"])[:, order]
    y = _encode_labels(test_df["label"], labels, "target")
    result = {"source-only": scores(y, proba)}
    priors = source_priors(bundle)
    if priors is not None:
        shifted, target = _prior_shift_scores(proba, priors[order], y, labels)
        result["source-only+priors"] = {**shifted, "priors": target}
    return result


def source_only(bundle, test_df: pd.DataFrame, labels: list) -> dict | None:
    """The base model applied to the target test rows as is (None if the labels differ)."""
    return zero_label_scores(bundle, test_df, labels).get("source-only")


def source_priors(bundle) -> np.ndarray | None:
    """The class shares of the rows the base model was trained on (None if not recorded)."""
    counts = bundle.metrics.get("train_label_counts")
    if not counts or set(counts) != set(bundle.labels):
        return None
    values = np.array([counts[lab] for lab in bundle.labels], dtype=np.float64)
    return values / values.sum() if values.min() > 0 else None


def reference_rows(bundle, splits, baselines=(), seed=0, with_source=True,
                   verbose=False) -> list[dict]:
    """The rows every strategy is measured against, on the same splits: the zero-label rows
    (see :func:`zero_label_scores`) and each of `baselines` trained on the labelled rows.

    Each row has ``strategy``, ``n_train``, ``accuracy``, ``roc_auc``, ``seconds``.
    """
    labels, train_df, val_df, test_df = splits
    rows = []
    if with_source:
        for name, result in zero_label_scores(bundle, test_df, labels).items():
            priors = result.pop("priors", None)
            rows.append({"strategy": name, "n_train": 0, **result, "seconds": 0.0})
            if priors is not None:
                _log(verbose, "target class priors estimated by EM from unlabelled texts: " +
                     ", ".join(f"{k} {v:.3f}" for k, v in priors.items()))
    labelled = pd.concat([train_df, val_df], ignore_index=True)
    for name in baselines:
        tic = time.perf_counter()
        result = baseline_scores(name, labelled, test_df, labels, base=bundle.path, seed=seed)
        rows.append({"strategy": name, "n_train": len(labelled), **result,
                     "seconds": round(time.perf_counter() - tic, 2)})
        _log(verbose, f"[{name}] test accuracy {result['accuracy']:.4f}")
    return rows


BASELINES = ("tfidf-logreg", "catboost-text", "embedding-logreg")


def parse_baselines(text: str) -> tuple:
    """``"all"``, ``"none"`` or a comma list of :data:`BASELINES` names -> a tuple."""
    if text == "all":
        return BASELINES
    if text in ("none", ""):
        return ()
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in names if s not in BASELINES]
    if unknown:
        raise DataError(f"unknown baseline {', '.join(map(repr, unknown))}; choose from "
                        f"{', '.join(BASELINES)}, all, or none")
    return names


def baseline_scores(name: str, train_df, test_df, labels, base=None, seed=0) -> dict:
    """Train baseline `name` on the labelled target rows and score it on the test rows.

    ``embedding-logreg`` is logistic regression on the base model's pooled features.
    """
    from . import baselines

    models = {"tfidf-logreg": lambda: baselines.tfidf_logreg(seed),
              "catboost-text": lambda: baselines.CatBoostText(random_state=seed),
              "embedding-logreg": lambda: baselines.embedding_logreg(str(base), "pooling", seed)}
    if name not in models:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(models)}")
    y_train = _encode_labels(train_df["label"], labels, "target")
    y_test = _encode_labels(test_df["label"], labels, "target")
    return baselines.fit_score(models[name](), train_df["text"], y_train, test_df["text"],
                               y_test)


@_locked
def compare(base="runs/base", data=None, text_col=None, label_col=None, out="runs/target",  # noqa: PLR0913
            strategies=STRATEGIES, baselines=BASELINES, train_size=None, tsne=None,
            tsne_points=600, seed=0, neutral_band=0.0, truthful_only=False, verbose=True,
            **transfer_kwargs) -> pd.DataFrame:
    """Run several strategies on the same splits, plus the baselines, and tabulate them.

    Writes each strategy's bundle to ``OUT/<strategy>``, the table to ``OUT/comparison.csv``
    and, with `tsne`, a t-SNE figure of source vs target features before and after
    fine-tuning. Rows: ``source-only`` (the base model as is), each of `baselines` trained on
    the same labelled rows (see :func:`baseline_scores`), then each strategy. An ``s3://``
    `out` receives everything once the whole run has succeeded.
    """
    bundle = load_bundle(base)
    test_size = transfer_kwargs.pop("test_size", 0.2)
    val_size = transfer_kwargs.pop("val_size", 0.15)
    splits = _target_splits(data, text_col, label_col, train_size, test_size, val_size, seed,
                            neutral_band, verbose, truthful_only)
    test_df = splits[3]
    rows = reference_rows(bundle, splits, baselines, seed=seed, verbose=verbose)
    with output_dir(out, quiet=not verbose) as local:
        for strategy in strategies:
            m = transfer(base=base, data=data, text_col=text_col, label_col=label_col,
                         out=str(local / strategy), strategy=strategy, train_size=train_size,
                         seed=seed, neutral_band=neutral_band, verbose=verbose,
                         _base_bundle=bundle, _splits=splits, **transfer_kwargs)
            rows += run_rows(m)
        table = marked_table(rows)
        local.mkdir(parents=True, exist_ok=True)
        with atomic_write(local / "comparison.csv") as handle:
            table.to_csv(handle, index=False)
        summary_metrics = {"comparison": rows, "n_test": len(test_df)}
        if tsne:
            tuned = "fine-tune" if "fine-tune" in strategies else strategies[-1]
            figure = tsne_figure(bundle, load_bundle(local / tuned), test_df, path=tsne,
                                 n=tsne_points, seed=seed, title=tuned, verbose=verbose)
            summary_metrics["a_distance"] = figure["a_distance"]
        write_json(local / "metrics.json", summary_metrics)
    return table


def parse_sizes(text: str) -> list:
    """``"0,100,500,all"`` -> ``[0, 100, 500, None]`` (None = every labelled row; 0 = no
    target label: the zero-label rows and the domain-adaptation strategies only)."""
    sizes: list[int | None] = []
    for part in str(text).split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part == "all":
            sizes.append(None)
        elif part.isdigit():
            sizes.append(int(part))
        else:
            raise DataError(f"curve sizes: {part!r} is not a number or 'all'")
    if not sizes:
        raise DataError("curve sizes: give at least one size, e.g. 100,500,all")
    return sizes


@_locked
def learning_curve(base="runs/base", data=None, text_col=None, label_col=None,  # noqa: PLR0913
                   out="runs/curve", sizes=(100, 200, 500, 1000, None), repeats=3,
                   strategies=STRATEGIES, baselines=BASELINES, plot=None, seed=0,
                   test_size=0.2, val_size=0.15, neutral_band=0.0, truthful_only=False,
                   verbose=True, **transfer_kwargs) -> pd.DataFrame:
    """Train every strategy and baseline at each number of labelled target rows, `repeats`
    times with seeds ``seed, seed+1, ...``.

    Each repeat draws its own test split and labelled samples. Writes ``OUT/curve.csv``
    (strategy, n_train, seed, accuracy, roc_auc, seconds; rewritten after each run, so an
    interrupted curve keeps what it measured), ``OUT/curve.md`` (mean ± std table, negative
    transfer marked ``!``) and, with `plot` (a PNG path, or True for ``OUT/curve.png``), the
    figure. ``None`` in `sizes` means every labelled training row. Sizes larger than the
    training rows are skipped with a message.
    """
    settings = {k: v for k, v in locals().items() if k not in ("verbose", "transfer_kwargs")}
    _log(verbose, _settings_line("learning_curve", {**settings, **transfer_kwargs}))
    bundle = load_bundle(base)
    loaded = _load(data, DEFAULT_TARGET, text_col, label_col, neutral_band, verbose,
                   truthful_only)
    rows: list[dict] = []
    with output_dir(out, quiet=not verbose) as local:
        local.mkdir(parents=True, exist_ok=True)
        for repeat in range(repeats):
            run_seed = seed + repeat
            for size in sizes:
                splits = _curve_splits(loaded, data, size, test_size, val_size, run_seed,
                                       neutral_band, verbose)
                if splits is None:
                    continue
                with_source = not any(r["seed"] == run_seed for r in rows)
                rows += _curve_point(bundle, base, splits, strategies, baselines, run_seed,
                                     verbose, with_source, transfer_kwargs)
                _write_curve(local, rows)
        curve = pd.DataFrame(rows, columns=CURVE_COLUMNS)
        with atomic_write(local / "curve.md") as handle:
            handle.write(curve_table(curve) + "\n")
        if plot:
            plot = local / "curve.png" if plot is True else plot
            target_name = Path(str(data)).name if data else DEFAULT_TARGET
            plot_curve(curve, plot, title=f"{Path(str(base)).name} -> {target_name}: "
                                          f"{repeats} seeds")
            _log(verbose, f"learning curve figure written to {plot}")
    for line in negative_transfer_warnings(mark_negative_transfer(summarise(curve))):
        _log(True, line)
    _log(verbose, "\n" + curve_table(curve))
    return curve


def _curve_splits(loaded, data, size, test_size, val_size, seed, neutral_band, verbose):
    df, _ = loaded
    available = len(split_train_test(df, test_size, seed)[0])
    if size is not None and size > available:
        _log(verbose, f"curve: skipping {size} labelled rows (only {available} available)")
        return None
    return _target_splits(data, None, None, size, test_size, val_size, seed, neutral_band,
                          verbose, _loaded=loaded)


def _curve_point(bundle, base, splits, strategies, baselines, seed, verbose, with_source,  # noqa: PLR0913
                 transfer_kwargs) -> list[dict]:
    n_train = len(splits[1]) + len(splits[2])
    rows = [{**row, "seed": seed}
            for row in reference_rows(bundle, splits, baselines if n_train else (), seed,
                                      with_source)]
    for strategy in strategies:
        if n_train == 0 and not get_strategy(strategy).adapts:
            continue  # nothing to train on without target labels
        m = transfer(base=base, out=None, strategy=strategy, seed=seed, verbose=False,
                     _base_bundle=bundle, _splits=splits, **transfer_kwargs)
        rows += [{**row, "seed": seed} for row in run_rows(m)]
    _log(verbose, f"curve: seed {seed}, {n_train:,} labelled rows: " + ", ".join(
        f"{r['strategy']} {r['accuracy']:.3f}" for r in rows))
    return [{k: r[k] for k in CURVE_COLUMNS} for r in rows]


def _write_curve(local: Path, rows: list[dict]) -> None:
    with atomic_write(local / "curve.csv") as handle:
        pd.DataFrame(rows, columns=CURVE_COLUMNS).to_csv(handle, index=False)


def source_sample(base_bundle, n: int, seed: int = 0) -> pd.DataFrame:
    """`n` rows of the data the base model was trained on (re-read as its config says)."""
    trained_on = base_bundle.config.get("training", {})
    source_df = load_dataset(trained_on.get("data") or DEFAULT_SOURCE,
                             trained_on.get("text_col"), trained_on.get("label_col"),
                             trained_on.get("neutral_band", 0.0),
                             truthful_only=trained_on.get("truthful_only", False))
    return source_df.sample(min(n, len(source_df)), random_state=seed)


def tsne_figure(base_bundle, tuned_bundle, target: pd.DataFrame, path, n=600, seed=0,
                title="transfer", verbose=True) -> dict:
    """t-SNE of pooled features, source vs target, from the base and the transferred model.

    Each panel's title gives the proxy A-distance of its features (see
    :func:`~transferlearn.embeddings.proxy_a_distance`): how well a linear classifier tells
    the two domains apart, 0 (indistinguishable) to 2 (separate).

    Returns ``{"path": path, "a_distance": {panel: value}}``.
    """
    from .embeddings import layer_output, plot_domains, proxy_a_distance

    src = source_sample(base_bundle, n, seed)
    tgt = target.sample(min(n, len(target)), random_state=seed)
    panels, distances = {}, {}
    for name, b in (("base model", base_bundle), (f"after {title}", tuned_bundle)):
        f_src = layer_output(b.net, b.transform(src["text"]), "pooling")
        f_tgt = layer_output(b.net, b.transform(tgt["text"]), "pooling")
        distances[name] = round(proxy_a_distance(f_src, f_tgt, random_state=seed), 4)
        panels[f"{name}: pooled features, A-distance {distances[name]:.2f}"] = (
            f_src, src["label"].tolist(), f_tgt, tgt["label"].tolist())
    plot_domains(panels, path, random_state=seed, verbose=verbose)
    _log(verbose, "proxy A-distance source vs target (0 = alike, 2 = separable): " +
         ", ".join(f"{k} {v:.2f}" for k, v in distances.items()))
    _log(verbose, f"t-SNE figure written to {path}")
    return {"path": str(path), "a_distance": distances}


def run_rows(metrics: dict) -> list[dict]:
    """Comparison rows of one :func:`transfer` run: its own, plus its scratch check if any."""
    n_train = metrics["n_train"] + metrics["n_val"]
    runs = [metrics] + ([{"strategy": REFERENCE, **metrics["scratch_check"]}]
                        if "scratch_check" in metrics else [])
    if "label_shift" in metrics:
        runs.insert(1, {"strategy": f"{metrics['strategy']}+priors",
                        "train_seconds": metrics["train_seconds"], **metrics["label_shift"]})
    return [{"strategy": m["strategy"], "n_train": n_train, "accuracy": m["accuracy"],
             "roc_auc": m["roc_auc"], "seconds": m["train_seconds"]} for m in runs]


def marked_table(rows: list[dict]) -> pd.DataFrame:
    """A comparison table with negative transfer marked, warning about each case."""
    table = mark_negative_transfer(pd.DataFrame(rows))
    for line in negative_transfer_warnings(table):
        _log(True, line)
    return table


def table_of_runs(runs: list[dict]) -> pd.DataFrame:
    """A comparison table from :func:`transfer` metrics; warns about negative transfer."""
    return marked_table([row for m in runs for row in run_rows(m)])


def format_table(table: pd.DataFrame) -> str:
    """A markdown table of a comparison (negative transfer marked in ``vs_scratch``)."""
    shown = table.copy()
    for col in ("accuracy", "roc_auc"):
        shown[col] = shown[col].map(lambda v: f"{v:.4f}")
    shown["seconds"] = shown["seconds"].map(lambda v: f"{v:.1f}")
    if "vs_scratch" in shown:
        shown["vs_scratch"] = [
            "" if pd.isna(v) else f"{v:+.4f}" + (" negative transfer" if neg else "")
            for v, neg in zip(shown["vs_scratch"], shown["negative_transfer"], strict=True)]
        shown = shown.drop(columns="negative_transfer")
    header = "| " + " | ".join(shown.columns) + " |"
    rule = "| " + " | ".join("---" for _ in shown.columns) + " |"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    return "\n".join([header, rule, *body])
