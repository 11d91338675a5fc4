"""Train a base model on the source domain: ``train_base(**settings)``."""
from __future__ import annotations

import time
from dataclasses import replace

import mxnet as mx
from pandas import DataFrame

from .._runtime import runtime_line
from ..config import BaseRun, fill_defaults, length_cap, plain, signature
from ..data.loading import encode_labels, load_settings_data, origin_of
from ..data.pipeline import make_pipeline, sample_lengths, vocabulary_of
from ..data.readers import DEFAULT_SOURCE
from ..data.sources import source_digests
from ..data.splits import split_train_test, split_validation
from ..log import logger, verbosity
from ..model.encoders import bag_options
from ..model.network import (
    TextClassifier,
    log_count_ratio,
    set_token_scale,
    summary,
)
from ..model.vectors import init_embedding, load_vectors, token_counts
from ..training import distributed
from ..training.fit import fit
from ..training.metrics import evaluate
from .common import (
    locked,
    save_run,
    settings_line,
    training_options,
)
from .result import Result


def train_base(**settings) -> Result:
    """Train a base classifier on `data` (bundled movie snippets by default) and save it to `out`.

    Every keyword is a field of :class:`~transferlearn.config.BaseRun` (defaults there).
    Holds out a stratified test split (or uses the data's ``split`` column), takes a
    validation split from the training rows for early stopping, and writes the bundle with
    ``metrics.json`` (accuracy, roc_auc, n_train, n_val, n_test, history) to `out`.

    `categorical` columns (e.g. ``["Device_Used"]``) get a token each in front of the text
    and so their own embeddings (see :func:`transferlearn.data.with_categories`).

    A checkpoint is written after every epoch; with `resume`, a killed run continues from
    its last one (same result as an uninterrupted run). `gpus` (e.g. ``[0, 1]``) splits each
    batch across GPUs; `kvstore` ``"dist_sync"``/``"dist_async"`` trains as one worker of a
    distributed run (see :mod:`transferlearn.cli.launch`), where rank 0 writes the bundle.

    Returns the metrics as a :class:`~transferlearn.experiments.result.Result`: a dict that
    also holds the trained model (``predict``, ``predict_proba``, ``save``, ``bundle``), so
    ``out=None`` keeps it in memory.
    """
    return _train_base(BaseRun(**settings))


train_base.__signature__ = signature(BaseRun)  # type: ignore[attr-defined]


@locked
def _train_base(s: BaseRun) -> Result:
    with verbosity(s.verbose and distributed.rank(s.kvstore) == 0):
        logger.info(settings_line("train_base", s))
        logger.info(runtime_line())
        started = time.perf_counter()
        ngrams, nb_scale = bag_options(s.encoder, s.ngrams, s.nb_scale)
        # read before the data: a bad vectors file fails at once, not after the tokenizing
        vectors = load_vectors(s.init_vectors, quiet=not s.verbose) if s.init_vectors else None
        df, labels = load_settings_data(s, DEFAULT_SOURCE)
        train_df, test_df = split_train_test(df, s.test_size, s.seed)
        train_df, val_df = split_validation(train_df, s.val_size, s.seed)
        s = _filled(s, train_df["text"], vectors)
        pipe = make_pipeline(max_len=int(s.max_len or 0), min_freq=int(s.min_freq or 0),
                             ngrams=ngrams)
        # the test rows' ids are made after training: their matrix is not held meanwhile
        X = {"train": pipe.fit_transform(train_df["text"]), "val": pipe.transform(val_df["text"])}
        origin = origin_of(s.data, DEFAULT_SOURCE)
        y = {name: encode_labels(d["label"], labels, origin)
             for name, d in (("train", train_df), ("val", val_df), ("test", test_df))}
        vocab = vocabulary_of(pipe)
        net = _base_network(s, len(vocab), len(labels),
                            (X["train"], y["train"]) if nb_scale else None)
        logger.info(f"vocabulary {len(vocab):,} tokens; "
                    f"{len(X['train']):,} train / {len(X['val']):,} validation / "
                    f"{len(test_df):,} test rows")
        vectors = _init_vectors(s.init_vectors, vectors, net, vocab, X["train"])
        logger.info(summary(net))
        options = training_options(s, X["train"], y["train"])
        history = fit(net, X["train"], y["train"], X["val"], y["val"], num_epochs=s.epochs,
                      batch_size=int(s.batch_size or 0), lr=float(s.lr or 0),
                      weight_decay=s.weight_decay, patience=s.patience, random_state=s.seed,
                      verbose=s.verbose, **options)
        X["test"] = pipe.transform(test_df["text"])
        metrics = _base_metrics(net, X, y, labels, history, origin, started)
        metrics["settings"] = {k: v for k, v in plain(s).items() if k != "verbose"}
        metrics.update({"init_vectors": vectors} if vectors else {})
        metrics.update({"sources": df.attrs["sources"]} if "sources" in df.attrs else {})
        provenance = ({"training_data": source_digests(s.data or DEFAULT_SOURCE)}
                      if options["checkpoint"] is not None and not isinstance(s.data, DataFrame)
                      else {})  # what the data held: a transfer re-reads it only if unchanged
        result = save_run(s, options["checkpoint"], net, pipe, labels, metrics, "training",
                          provenance)
        if options["checkpoint"] is not None:
            logger.info(f"test accuracy {metrics['accuracy']:.4f}, ROC AUC "
                        f"{metrics['roc_auc']:.4f}; bundle written to {s.out}")
        return result


def _filled(s: BaseRun, train_texts, vectors=None) -> BaseRun:
    """`s` with the settings left at None filled for its encoder (embed_dim: the width of
    the token vectors it starts from, if any), said in the log."""
    if s.embed_dim is None and vectors is not None:
        s = replace(s, embed_dim=int(vectors.idx_to_vec.shape[1]))
    s, chosen = fill_defaults(s, lambda: sample_lengths(train_texts, seed=s.seed))
    if chosen:
        logger.info(f"{s.encoder} defaults: " + ", ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in chosen.items())
            + (" (max-len: the 95th percentile of the training texts' token counts, "
               f"at most {length_cap(s.encoder)})" if "max_len" in chosen else ""))
    return s


def _base_network(s: BaseRun, vocab_size: int, num_classes: int,
                  nb_rows: tuple | None) -> TextClassifier:
    """The base's network, initialised; with `nb_rows` (ids, labels), naive-Bayes token
    weights from them."""
    mx.random.seed(s.seed)
    # row-sparse embedding gradients for the n-gram bag (a table of ~500k rows on IMDB, of
    # which a batch touches a few thousand); one device only, the kvstores push dense arrays
    sparse = s.encoder == "ngram" and not s.gpus and s.kvstore == "device"
    net = TextClassifier(vocab_size, num_classes, embed_dim=int(s.embed_dim or 0),
                         encoder=s.encoder,
                         hidden_size=s.hidden_size, num_filters=s.num_filters,
                         dropout=s.dropout, embed_dropout=s.embed_dropout,
                         nb_scale=nb_rows is not None, sparse_grad=sparse)
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    if nb_rows is not None:
        ids, labels = nb_rows
        set_token_scale(net, log_count_ratio(ids, labels, vocab_size, num_classes))
    return net


def _init_vectors(location, embedding, net, vocab, X_train) -> dict | None:
    """Start the embedding from the loaded vectors `embedding` (None: keep the random
    start); its report."""
    if embedding is None:
        return None
    report = init_embedding(net, vocab, embedding, token_counts(X_train, len(vocab)),
                            path=str(location))
    logger.info(str(report))
    return report.to_dict()


def _base_metrics(net, X: dict, y: dict, labels: list, history, origin: str,
                  started: float) -> dict:
    test = evaluate(net, X["test"], y["test"])
    return {"accuracy": test["accuracy"], "roc_auc": test["roc_auc"], "loss": test["loss"],
            "n_train": len(X["train"]), "n_val": len(X["val"]), "n_test": len(X["test"]),
            "best_epoch": history.best_epoch, "train_seconds": round(history.seconds, 2),
            "total_seconds": round(time.perf_counter() - started, 2), "data": origin,
            "labels": labels,
            "train_label_counts": {lab: int((y["train"] == i).sum())
                                   for i, lab in enumerate(labels)},
            "history": history.epochs}


__all__ = ["train_base"]
