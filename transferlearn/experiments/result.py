"""What :func:`~transferlearn.experiments.train_base` and
:func:`~transferlearn.experiments.transfer` return: the metrics (a dict, as they always were)
holding the trained model, as a fitted estimator does.

Example::

    >>> result = experiments.transfer(base="runs/base", strategy="auto", train_size=500,
    ...                               out=None)            # doctest: +SKIP
    >>> result["accuracy"], result.predict(["works great"])  # doctest: +SKIP
    (0.78, ['positive'])
    >>> result.save("runs/amazon")                          # doctest: +SKIP
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..bundle.store import Bundle, save_bundle
from ..data.pipeline import pipeline_config


class Result(dict):
    """The run's metrics (``result["accuracy"]``, ...) and its trained model: ``predict``,
    ``predict_proba``, ``save`` and the in-memory :class:`~transferlearn.bundle.store.Bundle`
    (``result.bundle``: ``net``, ``pipeline``, ``labels``; its ``path`` is where the run
    wrote it, None when ``out=None``)."""

    def __init__(self, metrics: dict, bundle: Bundle, extra: dict):
        super().__init__(metrics)
        self.bundle = bundle
        self._extra = extra  # config.json's run sections, for save()

    @classmethod
    def of(cls, metrics: dict, net, pipeline, labels, extra: dict, path=None) -> Result:
        config = {"model": net.config, "preprocessing": pipeline_config(pipeline),
                  "labels": list(labels), **extra}
        bundle = Bundle(net, pipeline, list(labels), config, dict(metrics),
                        Path(path) if path is not None else None, extra.get("ensemble"))
        return cls(metrics, bundle, extra)

    @property
    def metrics(self) -> dict:
        return dict(self)

    def predict(self, texts, batch_size: int = 512) -> list:
        """Predicted label names of `texts` (a list, array or Series)."""
        return self.bundle.predict(texts, batch_size)

    def predict_proba(self, texts, batch_size: int = 512) -> np.ndarray:
        """Class probabilities ``(n, n_labels)``, columns in ``result.bundle.labels`` order."""
        return self.bundle.predict_proba(texts, batch_size)

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the bundle to `path` (as ``out=`` would have); loadable with
        :func:`~transferlearn.load_bundle`."""
        b = self.bundle
        return save_bundle(path, b.net, b.pipeline, b.labels, self.metrics, extra=self._extra,
                           overwrite=overwrite)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self[k]:.4f}" for k in ("accuracy", "roc_auc") if k in self)
        return (f"Result({self.get('strategy', 'base')}: {shown}; labels {self.bundle.labels}"
                f"{'; at ' + str(self.bundle.path) if self.bundle.path else ''})")


__all__ = ["Result"]
