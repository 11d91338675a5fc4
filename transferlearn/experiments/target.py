"""Transfer a base model to a target: ``transfer(**settings)`` and its core,
:func:`run_strategy`, which compare, the learning curve and the scratch check share."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .._runtime import runtime_line
from ..bundle.store import Bundle, load_bundle
from ..config import TransferRun, plain, signature
from ..data.loading import encode_labels, load_data, load_settings_data, origin_of
from ..data.readers import DEFAULT_SOURCE, DEFAULT_TARGET, unlabeled_texts
from ..data.splits import Splits, make_splits, take_labelled
from ..errors import DataError
from ..log import logger, verbosity
from ..model.inference import predict_logits, predict_proba
from ..model.linear import blend, linear_model
from ..model.network import log_count_ratio, set_token_scale, summary, summary_line
from ..training import distributed
from ..training.fit import fit
from ..training.metrics import evaluate, scores_with_loss
from ..transfer.adaptation import fit_adapted
from ..transfer.strategies import (
    REFERENCE,
    Strategy,
    Target,
    adapting_names,
    canonical,
    prepare_target,
)
from ..transfer.strategies import get as get_strategy
from ..transfer.vocabulary import category_report
from ..transfer.weights import label_order
from .common import (
    locked,
    save_run,
    settings_line,
    training_options,
)
from .priors import source_data_of
from .reports import distillation_report, label_shift_scores


def transfer(**settings) -> dict:
    """Transfer the base bundle at `base` to `data` (bundled Amazon snippets by default).

    Every keyword is a field of :class:`~transferlearn.config.TransferRun` (defaults and a
    line on each there); the main ones:

    strategy : str
        A registered strategy (see :mod:`transferlearn.transfer.strategies` and each one's
        ``help``): how the target network starts from the base (:func:`prepare_target`),
        what trains at which rate (`body_lr_mult`, `head_lr_mult`, `discriminative_factor`),
        and its step.
    base : str or Bundle
        The base bundle's directory (local or ``s3://``), or a loaded :class:`Bundle`.
    data : str or DataFrame
        The target rows (a path, ``s3://``, bundled name, or a DataFrame).
    out : str or None
        Bundle directory (local or ``s3://``); None trains and scores without saving.
    train_size : int, optional
        Cap on the labelled target rows (validation included; the test split stays the
        same); 0 only for strategies that align domains.
    scratch_check : bool
        Also train scratch on the same rows (not saved), ``metrics["scratch_check"]``.
    label_shift : bool
        Re-weight the outputs to target priors estimated by EM on the unlabelled test texts
        (``metrics["label_shift"]``, a ``<strategy>+priors`` row).
    resume, gpus, kvstore :
        As in :func:`~transferlearn.experiments.train_base` (checkpoints each epoch when
        `out` is set).

    Returns the metrics as a :class:`~transferlearn.experiments.result.Result`, holding the
    trained model (``predict``, ``predict_proba``, ``save``), also with ``out=None``.
    """
    if "strategy" in settings:
        settings["strategy"] = canonical(settings["strategy"])
    return _transfer(TransferRun(**settings))


transfer.__signature__ = signature(TransferRun)  # type: ignore[attr-defined]


@locked
def _transfer(s: TransferRun) -> dict:
    with verbosity(s.verbose and distributed.rank(s.kvstore) == 0):
        if s.scratch_check and distributed.is_distributed(s.kvstore):
            logger.info("scratch check skipped: it does not run on a distributed kvstore")
            s = replace(s, scratch_check=False)
        logger.info(settings_line("transfer", s))
        logger.info(runtime_line())
        bundle = s.base if isinstance(s.base, Bundle) else load_bundle(s.base)
        splits = splits_for(s)
        return run_strategy(bundle, splits, s)


def target_splits(data=None, **settings) -> Splits:
    """The target splits that :func:`transfer`, compare and the learning curve use with the
    same settings (fields of :class:`~transferlearn.config.TransferRun`: ``train_size``,
    ``test_size``, ``val_size``, ``seed``, the columns...). Unpacks as ``labels, train, val,
    test``."""
    settings.setdefault("verbose", False)
    return splits_for(TransferRun(data=data, **settings))


def splits_for(s: TransferRun, loaded=None) -> Splits:
    """The target splits of the settings `s` (`loaded`: the ``(df, labels)`` already read):
    the same for every strategy, so that runs compared on them differ only by strategy."""
    df, labels = loaded or load_settings_data(s, DEFAULT_TARGET)
    return make_splits(df, labels, s.train_size, s.test_size, s.val_size, s.seed,
                       origin_of(s.data, DEFAULT_TARGET))


def run_strategy(bundle: Bundle, splits: Splits, s: TransferRun, *, on_epoch=None,
                 ensemble: dict | None = None, report: dict | None = None) -> dict:
    """Train the strategy of `s` from `bundle` on `splits` and score it: the metrics (saved
    with the bundle to ``s.out`` when it is set). Compare, the learning curve and the scratch
    check call this with their shared splits; it never reads the test rows' labels before
    training is over.

    Strategies chosen by cross-validation (``auto``, ``ensemble``) go to
    :func:`~transferlearn.experiments.selection.run_selection`, which calls this again for
    the folds (`on_epoch`: ``on_epoch(job, net)`` after every epoch) and for the refit
    (`ensemble`: the network's weight and a TF-IDF model to average with; `report`: what
    goes into the metrics besides, e.g. the cross-validation table).
    """
    strategy = get_strategy(s.strategy)
    if strategy.candidates or epochs_by_cv(strategy, splits, s):
        from .selection import run_selection

        return run_selection(bundle, splits, s, strategy, run_strategy)
    with verbosity(s.verbose):
        started = time.perf_counter()
        job = _TransferJob(bundle, strategy, splits, s, on_epoch=on_epoch, ensemble=ensemble)
        history = _train_target(job)
        metrics = {**_transfer_metrics(job, history, started), **job.notes, **(report or {})}
        if s.scratch_check and job.strategy.uses_base:
            metrics["scratch_check"] = _scratch_check(job)
        return _finish(job, metrics)


@dataclass
class _TransferJob:
    """One transfer run's inputs, and what it prepares on the way."""

    bundle: Bundle
    strategy: Strategy
    splits: Splits
    settings: TransferRun
    target: Target = field(init=False)
    X: dict = field(default_factory=dict)  # {"train", "val", "test"}: token ids
    y: dict = field(default_factory=dict)  # {"train", "val", "test"}: label indices
    options: dict = field(default_factory=dict)  # fit's devices, kvstore, checkpoints
    fit_labels: np.ndarray | None = None  # the labels the model learns the balance of
    teacher: np.ndarray | None = None  # distillation: the teacher's logits on train
    on_epoch: Callable | None = None  # on_epoch(job, net) after every epoch
    ensemble: dict | None = None  # {"weight": w, "linear": TF-IDF arrays} to average with
    notes: dict = field(default_factory=dict)  # what training adds to the metrics (joint)

    @property
    def labels(self) -> list:
        return self.splits.labels

    @property
    def origin(self) -> str:
        return origin_of(self.settings.data, DEFAULT_TARGET)


def _prepare(job: _TransferJob) -> list[str]:
    """Build the target network (:func:`prepare_target`) and encode the splits; returns the
    target-domain texts a domain-aligning strategy learns from (else none)."""
    labels, train_df, val_df, test_df = job.splits
    s, chosen = job.settings, job.strategy
    if len(train_df) == 0 and chosen.needs_labels:
        raise DataError(f"strategy {chosen.name} needs labelled target rows; with --train-size "
                        f"0 use one that learns from unlabelled texts: "
                        f"{', '.join(adapting_names())}")
    domain_texts = (_domain_texts(job.splits, s.unlabeled, s.verbose) if chosen.adapts
                    else [])
    job.target = prepare_target(
        job.bundle, chosen, list(train_df["text"]) + domain_texts, labels,
        vocab_mode=s.vocab_mode, target_arch=s.target_arch,
        category_map=s.category_map, seed=s.seed, body_lr_mult=s.body_lr_mult,
        head_lr_mult=s.head_lr_mult, discriminative_factor=s.discriminative_factor)
    for note in job.target.notes:
        logger.info(note)
    logger.info(str(job.target.vocabulary))
    # the whole table only for a network of its own sizes; the base's table was shown with it
    logger.info(summary(job.target.net) if s.target_arch else summary_line(job.target.net))
    for name, df in zip(("train", "val", "test"), (train_df, val_df, test_df), strict=True):
        job.X[name] = job.target.pipeline.transform(df["text"])
        job.y[name] = encode_labels(df["label"], labels, job.origin)
    if job.target.layers.get("embedding.scale") == "new":  # fresh: NB weights of the target
        set_token_scale(job.target.net, log_count_ratio(job.X["train"], job.y["train"],
                                                        len(job.target.vocab), len(labels)))
    if chosen.teacher:
        job.teacher = _teacher_logits(job.bundle, train_df, labels)
    job.options = training_options(s, job.X["train"], job.y["train"])
    job.fit_labels = np.concatenate([job.y["train"], job.y["val"]])
    return domain_texts


CV_BELOW = 100  # validation rows under which select_epochs="auto" cross-validates


def epochs_by_cv(strategy, splits: Splits, s: TransferRun) -> bool:
    """Whether a plain strategy's epochs are chosen by cross-validation on the labelled rows
    (then refit on all of them) rather than by early stopping on the validation split."""
    if s.select_epochs not in ("auto", "cv", "validation"):
        raise DataError(f"--select-epochs must be auto, cv or validation, got "
                        f"{s.select_epochs!r}")
    if s.select_epochs == "validation" or strategy.step != "cross-entropy" or (
            distributed.is_distributed(s.kvstore) or not len(splits.train)):
        return False
    return s.select_epochs == "cv" or len(splits.val) < CV_BELOW


def _train_target(job: _TransferJob):
    """Prepare the target, then train it with the strategy's step: cross-entropy (with the
    strategy's schedules), distillation from the base's logits, or domain alignment."""
    domain_texts = _prepare(job)
    s, X, y, net = job.settings, job.X, job.y, job.target.net
    common: dict[str, Any] = {
        "num_epochs": s.epochs, "batch_size": s.batch_size, "lr": s.lr,
        "weight_decay": s.weight_decay, "patience": s.patience, "monitor": s.monitor,
        "random_state": s.seed, "verbose": s.verbose,
        "epoch_callback": (lambda net, record: job.on_epoch(job, net)) if job.on_epoch else None}
    if job.strategy.joint:
        X_joint, y_joint = _joint_rows(job)
        return fit(net, X_joint, y_joint, X["val"], y["val"], **common, **job.options)
    if not job.strategy.adapts:
        return fit(net, X["train"], y["train"], X["val"], y["val"], **common,
                   **job.target.schedules(), soft_targets=job.teacher,
                   temperature=s.temperature, alpha=s.alpha, **job.options)
    X_src, y_src = _source_rows(job.bundle, s.source_data, s.source_rows, job.labels,
                                job.target.pipeline, s.seed, s.verbose)
    job.fit_labels = np.concatenate([y_src, y["train"]])
    logger.info(f"{job.strategy.name}: {len(X_src):,} labelled source rows, "
                      f"{len(X['train']):,} labelled target rows, {len(domain_texts):,} "
                      "target texts")
    return fit_adapted(net, X_src, y_src, job.target.pipeline.transform(domain_texts),
                       str(job.strategy.alignment), X["train"], y["train"], X["val"], y["val"],
                       weight=s.adapt_weight, **common, **job.options)


def _joint_rows(job: _TransferJob) -> tuple[np.ndarray, np.ndarray]:
    """Labelled source rows plus the target's training rows, the target rows repeated so
    that they make ``target_share`` of the whole (joint training with the target up-weighted:
    the source data acts as a prior that the target's labels pull away from)."""
    s, X, y = job.settings, job.X, job.y
    X_src, y_src = _source_rows(job.bundle, s.source_data, s.source_rows, job.labels,
                                job.target.pipeline, s.seed, s.verbose)
    n_tgt = max(len(X["train"]), 1)
    repeats = max(1, round(s.target_share / (1 - s.target_share) * len(X_src) / n_tgt))
    share = repeats * n_tgt / (repeats * n_tgt + len(X_src))
    logger.info(f"joint: {len(X_src):,} labelled source rows + {len(X['train']):,} target "
                f"rows x {repeats} (target share {share:.0%})")
    job.fit_labels = np.concatenate([y_src, y["train"]])
    job.notes["joint"] = {"source_rows": len(X_src), "target_rows": len(X["train"]),
                          "repeats": repeats, "target_share": round(share, 4)}
    return (np.concatenate([X_src] + [X["train"]] * repeats),
            np.concatenate([y_src] + [y["train"]] * repeats))


def _transfer_metrics(job: _TransferJob, history, started: float) -> dict:
    """The run's metrics: test scores, sizes, how the target came from the base, history,
    and the reports its settings ask for (categories, distillation, cross-arch, label shift)."""
    target, labels, test_df = job.target, job.labels, job.splits.test
    test = _test_scores(job)
    metrics = {"strategy": job.strategy.name, "accuracy": test["accuracy"],
               "roc_auc": test["roc_auc"], "loss": test["loss"],
               "n_train": len(job.X["train"]), "n_val": len(job.X["val"]),
               "n_test": len(job.X["test"]), "best_epoch": history.best_epoch,
               "train_seconds": round(history.seconds, 2),
               "total_seconds": round(time.perf_counter() - started, 2),
               "base": str(getattr(job.settings.base, "path", job.settings.base)),
               "data": job.origin, "labels": labels,
               "vocabulary": target.vocabulary.to_dict(), "layers": target.layers,
               "frozen": target.setup["frozen"], "history": history.epochs,
               "settings": {k: v for k, v in plain(job.settings).items() if k != "verbose"}}
    if job.splits.categories:
        metrics["categories"] = category_report(job.splits.categories, job.bundle.vocab,
                                                target.vocab, job.settings.category_map)
        for column, rows in metrics["categories"].items():
            logger.info(f"categories of {column}: " + ", ".join(
                f"{value} {how}" for value, how in rows.items()))
    if job.teacher is not None:
        metrics["distill"] = d = distillation_report(job.bundle, target.net, target.pipeline,
                                                     test_df, labels)
        logger.info(f"distillation: teacher {d['teacher_accuracy']:.4f} with "
                      f"{d['teacher_params']:,} parameters at {d['teacher_infer_per_s']:,.0f} "
                      f"texts/s; student {test['accuracy']:.4f} with {d['student_params']:,} at "
                      f"{d['student_infer_per_s']:,.0f} texts/s")
    if target.cross_arch is not None:
        metrics["cross_arch"] = {name: {k: list(v) if isinstance(v, tuple) else v
                                        for k, v in r.items()}
                                 for name, r in target.cross_arch.items()}
    if job.settings.label_shift:
        metrics["label_shift"] = shift = label_shift_scores(
            target.net, job.X["test"], job.y["test"], job.fit_labels, labels)
        logger.info(f"label shift: class priors {shift['train_priors']} in training, "
                      f"estimated {shift['target_priors']} on the target; accuracy "
                      f"{test['accuracy']:.4f} -> {shift['accuracy']:.4f}")
    return metrics


def _test_scores(job: _TransferJob) -> dict:
    """Accuracy, ROC AUC and loss on the test rows: the network's, or, with an ensemble,
    those of its probabilities averaged with the TF-IDF model's."""
    if job.ensemble is None:
        return evaluate(job.target.net, job.X["test"], job.y["test"])
    proba = blend(predict_proba(job.target.net, job.X["test"]), job.ensemble["weight"],
                  linear_model(job.ensemble["linear"]), job.splits.test["text"])
    return scores_with_loss(job.y["test"], proba)


def _finish(job: _TransferJob, metrics: dict) -> dict:
    """Save the run's bundle (when it checkpoints) and say how it did."""
    out = job.settings.out
    result = save_run(job.settings, job.options["checkpoint"], job.target.net,
                      job.target.pipeline, job.labels, metrics, "transfer",
                      more={"ensemble": job.ensemble} if job.ensemble is not None else None)
    logger.info(f"[{metrics['strategy']}] test accuracy {metrics['accuracy']:.4f}, "
                      f"ROC AUC {metrics['roc_auc']:.4f}"
                      + (f"; bundle written to {out}" if out else ""))
    return result


def _scratch_check(job: _TransferJob) -> dict:
    """The reference strategy (scratch) on the same rows, not saved: its scores."""
    logger.info("training a scratch model on the same rows to check for negative "
                      "transfer")
    reference = replace(job.settings, strategy=REFERENCE, out=None, verbose=False,
                        scratch_check=False, resume=False, label_shift=False)
    ref = run_strategy(job.bundle, job.splits, reference)
    return {k: ref[k] for k in ("accuracy", "roc_auc", "train_seconds")}


def _domain_texts(splits: Splits, unlabeled, verbose) -> list[str]:
    """Target-domain texts for adaptation: the labelled rows' texts, the target rows whose
    labels are not used, and the texts of the file `unlabeled`."""
    texts = list(splits.train["text"]) + list(splits.val["text"]) + list(splits.unlabeled)
    if unlabeled is not None:
        texts += unlabeled_texts(unlabeled, verbose)
    texts = [t for t in map(str, texts) if t.strip()]
    if not texts:
        raise DataError("domain adaptation needs target texts: none found (pass --unlabeled)")
    return texts


def _source_rows(bundle, source_data, source_rows, labels, pipe, seed, verbose):
    """Up to `source_rows` labelled source rows (stratified), encoded for the target model."""
    data, read = source_data_of(bundle, source_data)
    df, source_labels = load_data(data, DEFAULT_SOURCE, verbose=verbose, **read)
    if label_order(source_labels, labels) is None:
        raise DataError(f"source labels {source_labels} differ from the target's {labels}: "
                        "training on source rows (dann, coral, mmd, joint) needs the same "
                        "label set")
    if source_rows and len(df) > source_rows:
        df = take_labelled(df.drop(columns="split", errors="ignore"), source_rows, seed)
    return pipe.transform(df["text"]), encode_labels(df["label"], labels, origin_of(
        data, DEFAULT_SOURCE))


def _teacher_logits(teacher, train_df: pd.DataFrame, labels: list) -> np.ndarray:
    """The teacher bundle's logits on the training texts, columns in the target's order."""
    order = label_order(teacher.labels, labels)
    if order is None:
        raise DataError(f"distill: the teacher's labels {teacher.labels} differ from the "
                        f"target's {labels}; distil from a model transferred to this target")
    return predict_logits(teacher.net, teacher.transform(train_df["text"]))[:, order]
