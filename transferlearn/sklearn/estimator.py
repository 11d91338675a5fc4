"""scikit-learn estimators over raw texts: a Gluon text classifier and a layer embedder.

:class:`GluonTextClassifier` wraps the whole pipeline (text transformers, network, training)
as one sklearn classifier, so it works in ``Pipeline``, ``GridSearchCV`` and ``clone``; with
``init_from`` set to a bundle it starts from that network (vocabulary-aware transfer, then
the chosen strategy). :class:`LayerEmbedder` turns texts into any layer's output of a
trained bundle, so any sklearn model can sit on top.

Examples
--------
>>> from sklearn.model_selection import GridSearchCV  # doctest: +SKIP
>>> search = GridSearchCV(GluonTextClassifier(epochs=3), {"lr": [1e-3, 3e-3]}, cv=3)
>>> search.fit(texts, labels).best_params_  # doctest: +SKIP
"""
from __future__ import annotations

import mxnet as mx
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..config import MODEL, TRAINING, TRANSFER, encoder_default
from ..data.pipeline import make_pipeline, sample_lengths
from ..model.encoders import bag_options
from ..model.inference import predict_proba
from ..model.network import (
    TextClassifier,
    log_count_ratio,
    named_parameters,
    set_token_scale,
)
from ..training.fit import fit
from ..transfer.strategies import get as get_strategy
from ..transfer.strategies import prepare_target
from .baselines import LayerFeatures, _texts


def _text_list(X) -> list[str]:
    """Texts from a list, a 1-D array, a Series, or a one-column 2-D array / DataFrame."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        X = X.iloc[:, 0]
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"expected one text per row, got an array of shape {array.shape}")
    return _texts(array)


class GluonTextClassifier(ClassifierMixin, BaseEstimator):
    """A text classifier (``TextClassifier`` network + text pipeline) as a sklearn estimator.

    Parameters
    ----------
    encoder, embed_dim, hidden_size, num_filters, dropout, embed_dropout
        The network (see :class:`~transferlearn.model.TextClassifier`); ignored with
        ``init_from``, whose architecture is kept. ``embed_dim`` None: the encoder's.
    max_len, min_freq
        Text pipeline: tokens kept per text, minimum token count for the vocabulary (None:
        the encoder's, see :data:`transferlearn.config.ENCODER_DEFAULTS`).
    ngrams, nb_scale
        Bag encoders: n-grams up to this order as tokens, naive-Bayes token weights (None:
        bigrams with NB weights for ``encoder="ngram"``, plain tokens otherwise).
    epochs, batch_size, lr, weight_decay, patience, val_size
        Training; ``val_size`` of the rows (stratified) decide early stopping and the kept
        epoch, unless there are fewer than 20 rows.
    length_buckets : int, optional
        Batches of similar-length texts, cut to their bucket's width (None: automatic; 0:
        off; see :class:`transferlearn.training.buckets.LengthBuckets`).
    init_from : str, optional
        A bundle directory (local or ``s3://``) to start from: its vocabulary is extended
        with the new tokens (known tokens keep their vectors) and ``strategy`` applies.
        (Version 1 called it ``warm_start``, which sklearn uses for a bool.)
    strategy : str
        How ``init_from`` trains: a registered strategy that starts from the bundle's weights
        and trains with cross-entropy (``fine-tune``, ``feature-extract``, ``gradual``, or
        one registered later; see :func:`transferlearn.strategies.prepare_target`).
    random_state : int
        Seeds the split, the initialisation, dropout and the batch order.

    Attributes
    ----------
    classes_ : ndarray
        The labels, sorted; ``predict`` returns them.
    net_, pipeline_, history_
        The trained network, the fitted text pipeline and the training history.
    """

    # the defaults are the base run's (transferlearn.config), as in scripts/train_base.py
    def __init__(self, encoder=MODEL.encoder, embed_dim=MODEL.embed_dim,  # noqa: PLR0913
                 hidden_size=MODEL.hidden_size, num_filters=MODEL.num_filters,
                 dropout=MODEL.dropout, embed_dropout=MODEL.embed_dropout,
                 max_len=MODEL.max_len, min_freq=MODEL.min_freq, ngrams=MODEL.ngrams,
                 nb_scale=MODEL.nb_scale, epochs=TRAINING.epochs,
                 batch_size=TRAINING.batch_size, lr=TRAINING.lr,
                 weight_decay=TRAINING.weight_decay, patience=TRAINING.patience,
                 val_size=TRAINING.val_size, length_buckets=TRAINING.length_buckets,
                 init_from=None, strategy=TRANSFER.strategy,
                 random_state=0, verbose=False):
        self.encoder = encoder
        self.embed_dim = embed_dim
        self.hidden_size = hidden_size
        self.num_filters = num_filters
        self.dropout = dropout
        self.embed_dropout = embed_dropout
        self.max_len = max_len
        self.min_freq = min_freq
        self.ngrams = ngrams
        self.nb_scale = nb_scale
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_size = val_size
        self.length_buckets = length_buckets
        self.init_from = init_from
        self.strategy = strategy
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y):
        texts = _text_list(X)
        y = np.asarray(y)
        if len(texts) != len(y):
            raise ValueError(f"X has {len(texts)} rows but y has {len(y)}")
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least 2 classes, got {len(self.classes_)}")
        seed = 0 if self.random_state is None else int(self.random_state)
        train_idx, val_idx = self._split(y_idx, seed)
        mx.random.seed(seed)
        epoch_start = lr_schedule = None
        train_texts = [texts[i] for i in train_idx]
        if self.init_from is None:
            ngrams, nb_scale = bag_options(self.encoder, self.ngrams, self.nb_scale)
            self.pipeline_ = make_pipeline(
                max_len=self._setting("max_len", lambda: sample_lengths(train_texts, seed=seed)),
                min_freq=self._setting("min_freq"), ngrams=ngrams)
            self.pipeline_.fit(train_texts)
            self.net_ = self._new_net(len(self.pipeline_.named_steps["index"].vocab_), nb_scale)
        else:
            epoch_start, lr_schedule = self._init_from(train_texts)
        ids = self.pipeline_.transform(texts)
        if self.init_from is None and "embedding.scale" in named_parameters(self.net_):
            set_token_scale(self.net_, log_count_ratio(ids[train_idx], y_idx[train_idx],
                                                       self.net_.config["vocab_size"],
                                                       len(self.classes_)))
        self.history_ = fit(self.net_, ids[train_idx], y_idx[train_idx],
                            ids[val_idx] if len(val_idx) else None,
                            y_idx[val_idx] if len(val_idx) else None,
                            num_epochs=self.epochs, batch_size=self._setting("batch_size"),
                            lr=self._setting("lr"),
                            weight_decay=self.weight_decay, patience=self.patience,
                            monitor="loss", random_state=seed, verbose=self.verbose,
                            epoch_start=epoch_start, lr_schedule=lr_schedule,
                            length_buckets=self.length_buckets)
        return self

    def _setting(self, name: str, lengths=None):
        """Setting `name`, or the encoder's default when it is None (config.ENCODER_DEFAULTS)."""
        value = getattr(self, name)
        return encoder_default(name, self.encoder, lengths) if value is None else value

    def _split(self, y_idx: np.ndarray, seed: int):
        rows = np.arange(len(y_idx))
        counts = np.bincount(y_idx)
        if not self.val_size or len(rows) < 20 or counts.min() < 2:
            return rows, rows[:0]
        return train_test_split(rows, test_size=self.val_size, random_state=seed,
                                stratify=y_idx)

    def _new_net(self, vocab_size: int, nb_scale: bool) -> TextClassifier:
        net = TextClassifier(vocab_size, len(self.classes_),
                             embed_dim=self._setting("embed_dim"), encoder=self.encoder,
                             hidden_size=self.hidden_size, num_filters=self.num_filters,
                             dropout=self.dropout,
                             embed_dropout=self.embed_dropout, nb_scale=nb_scale)
        net.initialize(mx.init.Xavier())
        return net

    def _init_from(self, train_texts: list[str]):
        from ..bundle.store import load_bundle

        chosen = get_strategy(self.strategy)
        if chosen.step != "cross-entropy" or not chosen.uses_base or chosen.joint:
            raise ValueError(f"init_from trains with cross-entropy from the bundle's weights; "
                             f"strategy {chosen.name!r} does not (its step is {chosen.step})")
        bundle = load_bundle(self.init_from)
        target = prepare_target(bundle, chosen, train_texts, [str(c) for c in self.classes_])
        self.pipeline_, self.net_, self.transfer_report_ = (target.pipeline, target.net,
                                                            target.layers)
        schedules = target.schedules()
        return schedules["epoch_start"], schedules["lr_schedule"]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "net_")
        return predict_proba(self.net_, self.pipeline_.transform(_text_list(X)))

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def save(self, path) -> None:
        """Write the trained network as a model bundle (loadable with ``load_bundle``)."""
        from ..bundle.store import save_bundle

        check_is_fitted(self, "net_")
        save_bundle(path, self.net_, self.pipeline_, [str(c) for c in self.classes_],
                    {"history": self.history_.epochs})

    @classmethod
    def load(cls, path) -> GluonTextClassifier:
        """A fitted estimator from a model bundle (local or ``s3://``): ``predict`` works at
        once; the settings are the bundle's network and pipeline."""
        from ..bundle.store import load_bundle
        from ..training.loop import History

        bundle = load_bundle(path)
        model = bundle.config["model"]
        est = cls(**{k: model[k] for k in ("encoder", "embed_dim", "hidden_size",
                                           "num_filters", "dropout", "embed_dropout")},
                  max_len=bundle.config["preprocessing"]["max_len"],
                  ngrams=bundle.config["preprocessing"].get("ngrams", 1),
                  nb_scale=bool(model.get("nb_scale", False)))
        est.net_, est.pipeline_ = bundle.net, bundle.pipeline
        est.classes_ = np.array(bundle.labels)
        est.history_ = History(epochs=list(bundle.metrics.get("history", [])))
        return est

    def __getstate__(self):
        """Pickling (``joblib.dump(grid.best_estimator_)``) goes through the bundle format:
        the network as its config and MXNet parameter bytes, never an MXNet object."""
        state = dict(self.__dict__)
        net = state.pop("net_", None)
        if net is not None:
            state["_net_bundle"] = _net_bytes(net)
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved = state.pop("_net_bundle", None)
        self.__dict__.update(state)
        if saved is not None:
            self.net_ = _net_from_bytes(saved)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags


def _net_bytes(net: TextClassifier) -> dict:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "model.params"
        net.save_parameters(str(file))
        return {"config": dict(net.config), "params": file.read_bytes()}


def _net_from_bytes(saved: dict) -> TextClassifier:
    import tempfile
    from pathlib import Path

    from ..bundle.schema import check_model
    from ..model.network import build_model

    config = check_model(dict(saved["config"]), saved["config"]["vocab_size"],
                         saved["config"]["num_classes"])
    net = build_model(config)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "model.params"
        file.write_bytes(saved["params"])
        net.load_parameters(str(file), ctx=mx.cpu())
    return net


class LayerEmbedder(LayerFeatures):
    """Texts -> the output of layer ``layer`` (``embedding``, ``encoder``, ``pooling`` or
    ``output``) of the bundle at ``bundle``, one vector per text (3-D outputs are averaged
    over the non-padding positions). Put any sklearn model after it in a ``Pipeline``."""


__all__ = ["GluonTextClassifier", "LayerEmbedder"]
