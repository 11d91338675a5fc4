"""End-to-end runs as functions: train a base model, transfer it, compare strategies.

The scripts, the notebooks and the tests all call these; every setting is a keyword argument
and every function returns its metrics as a dict (also written to ``OUT/metrics.json``).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import mxnet as mx
import numpy as np
import pandas as pd

from .._runtime import runtime_line
from ..data.readers import DEFAULT_SOURCE, DEFAULT_TARGET, unlabeled_texts
from ..data.splits import check_classes, split_train_test, take_labelled
from ..data.text import make_pipeline
from ..errors import DataError
from ..io.bundle import Bundle, load_bundle, save_bundle
from ..io.checkpoint import Checkpointer, fingerprint
from ..io.storage import is_remote, output_dir
from ..model.inference import predict_logits
from ..model.network import TextClassifier, summary
from ..training import distributed
from ..training.fit import fit
from ..training.loop import device_contexts
from ..training.metrics import evaluate
from ..transfer.adaptation import fit_adapted
from ..transfer.strategies import (
    REFERENCE,
    Strategy,
    Target,
    adapting_names,
    prepare_target,
)
from ..transfer.strategies import get as get_strategy
from ..transfer.vocabulary import category_report
from ..transfer.weights import label_order
from .common import _encode_labels, _load, _locked, _log, _settings_line, _split_validation
from .reports import distillation_report, label_shift_scores

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
        from ..io.s3 import cache_root

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
                       weight=s["adapt_weight"], **common, **job.options)


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
