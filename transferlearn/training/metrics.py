"""Scores of a classifier: accuracy, ROC AUC, cross-entropy."""
from __future__ import annotations

import numpy as np
from mxnet import gluon
from sklearn.metrics import roc_auc_score

from ..model.inference import predict_proba


def scores(y: np.ndarray, proba: np.ndarray) -> dict:
    """Accuracy and ROC AUC (one-vs-rest macro for more than two classes)."""
    y = np.asarray(y)
    result = {"accuracy": float((proba.argmax(axis=1) == y).mean()) if len(y) else float("nan")}
    present = np.unique(y)
    if len(present) < 2:
        result["roc_auc"] = float("nan")
    elif proba.shape[1] == 2:
        result["roc_auc"] = float(roc_auc_score(y, proba[:, 1]))
    else:
        result["roc_auc"] = float(roc_auc_score(y, proba[:, present], multi_class="ovr",
                                                labels=present))
    return result


def evaluate(net: gluon.Block, X: np.ndarray, y: np.ndarray, batch_size: int = 512,
             ctx=None) -> dict:
    """Accuracy, ROC AUC and mean cross-entropy on (X, y)."""
    return scores_with_loss(y, predict_proba(net, X, batch_size, ctx))


def scores_with_loss(y: np.ndarray, proba: np.ndarray) -> dict:
    """:func:`scores` of class probabilities `proba`, plus their mean cross-entropy."""
    result = scores(y, proba)
    picked = proba[np.arange(len(y)), np.asarray(y, dtype=int)]
    result["loss"] = float(-np.log(np.clip(picked, 1e-12, None)).mean()) if len(y) else 0.0
    return result
