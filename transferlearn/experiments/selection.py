"""Strategies chosen and combined by cross-validation on the labelled target rows.

With a few hundred labels, early stopping on a 15-75 row validation split is noise, and so
is a choice between strategies made on it. Here every choice is made by stratified k-fold
cross-validation on the labelled rows (train + validation), and the test rows are never
read while choosing (:func:`choose` gets splits whose test rows are a guard that fails on
any use):

- each neural candidate (``scratch``, ``fine-tune``, ``joint``) trains on k-1 folds for up to
  ``epochs`` epochs without early stopping, predicting the held-out fold after every
  epoch; the number of epochs with the best mean out-of-fold accuracy is chosen;
- ``tfidf-logreg`` gives out-of-fold probabilities the same way;
- ``ensemble``: the weight ``w`` of ``w * network + (1 - w) * TF-IDF`` with the best
  out-of-fold accuracy (``w = 1``: the network alone, ``w = 0``: TF-IDF alone), the network
  being the neural candidate with the best out-of-fold accuracy (fine-tune when it is the
  only one);
- ``auto``: the candidate with the best out-of-fold accuracy among its candidates (scratch,
  fine-tune, joint, TF-IDF + LR and the ensemble).

The choice is then refit on every labelled row, with the chosen number of epochs, and scored
on the test rows. The bundle holds the network and, for an ensemble, the TF-IDF model as
arrays (:mod:`transferlearn.model.linear`), so ``bundle.predict`` gives the ensemble's labels.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..config import TransferRun
from ..data.splits import Splits
from ..log import logger, verbosity
from ..model.inference import predict_proba
from ..model.linear import LinearTextModel, export_tfidf_logreg
from ..sklearn.baselines import fit_tfidf_logreg
from ..training.metrics import scores
from ..transfer.strategies import REFERENCE
from .common import encode_labels

NEURAL = ("scratch", "fine-tune", "joint")
NOT_NEURAL = ("tfidf-logreg", "ensemble")
WEIGHTS = np.round(np.linspace(0.0, 1.0, 11), 2)


class TestRowsGuard:
    """Stands in for the test rows while a choice is made: any use of it fails."""

    def __getattr__(self, name):
        raise AssertionError(f"the test rows were read during model selection (.{name})")

    def __len__(self):
        raise AssertionError("the test rows were read during model selection (len)")

    def __getitem__(self, key):
        raise AssertionError("the test rows were read during model selection ([])")


@dataclass
class Choice:
    """What cross-validation chose, and the table it chose from."""

    picked: str  # scratch, fine-tune, tfidf-logreg or ensemble
    weight: float  # the network's weight in the ensemble (1: the network alone)
    epochs: dict  # candidate -> chosen number of epochs
    table: list = field(default_factory=list)  # rows: candidate, cv_accuracy, cv_roc_auc
    weights: list = field(default_factory=list)  # rows: weight, cv_accuracy
    folds: int = 3
    seconds: float = 0.0
    mixed: str = "fine-tune"  # the network averaged with TF-IDF in the ensemble

    @property
    def network(self) -> str:
        """The network strategy refit for the bundle (the ensemble's under a TF-IDF mix)."""
        return self.mixed if self.picked in NOT_NEURAL else self.picked

    def to_dict(self) -> dict:
        return {"picked": self.picked, "network": self.network, "weight": self.weight,
                "epochs": self.epochs,
                "folds": self.folds, "table": self.table, "weights": self.weights,
                "seconds": round(self.seconds, 2)}


def fold_splits(splits: Splits, k: int, seed: int) -> list[tuple[np.ndarray, Splits]]:
    """Stratified folds of the labelled rows: (held-out row positions, Splits whose training
    rows are the other folds and whose test rows are the held-out fold)."""
    from sklearn.model_selection import StratifiedKFold

    labelled = splits.labelled
    counts = labelled["label"].value_counts()
    k = int(min(k, counts.min()))
    if k < 2:
        from ..errors import DataError

        raise DataError(f"cross-validation needs 2 labelled rows of every class; the smallest "
                        f"class ('{counts.idxmin()}') has {counts.min()}")
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(held, Splits(splits.labels, labelled.iloc[train].reset_index(drop=True),
                          labelled.iloc[:0], labelled.iloc[held].reset_index(drop=True),
                          unlabeled=splits.unlabeled, categories=splits.categories))
            for train, held in folds.split(labelled, labelled["label"])]


def _neural_oof(bundle, folds, n: int, s: TransferRun, name: str, run_strategy) -> np.ndarray:
    """Out-of-fold probabilities ``(epochs, n, classes)`` of candidate `name`, every epoch."""
    oof = np.zeros((s.epochs, n, len(folds[0][1].labels)))
    for held, fold in folds:
        per_epoch: list[np.ndarray] = []
        run_strategy(bundle, fold, replace(s, strategy=name, out=None, verbose=False,
                                           scratch_check=False, label_shift=False,
                                           resume=False, patience=None,
                                           select_epochs="validation"),
                     on_epoch=lambda job, net, seen=per_epoch: seen.append(
                         predict_proba(net, job.X["test"])))
        for epoch, proba in enumerate(per_epoch):
            oof[epoch, held] = proba
        for epoch in range(len(per_epoch), s.epochs):  # (a run stops only at the end)
            oof[epoch, held] = per_epoch[-1]
    return oof


def _tfidf_oof(folds, n: int, labels: list, seed: int) -> np.ndarray:
    oof = np.zeros((n, len(labels)))
    for held, fold in folds:
        model = fit_tfidf_logreg(fold.train["text"],
                                 encode_labels(fold.train["label"], labels, "target"), seed)
        oof[held] = LinearTextModel(export_tfidf_logreg(model)).predict_proba(
            fold.test["text"], len(labels))
    return oof


def choose(bundle, splits: Splits, s: TransferRun, candidates: tuple,  # noqa: PLR0913
           run_strategy, k: int = 3) -> Choice:
    """Cross-validate `candidates` on the labelled rows of `splits` (never its test rows)
    and pick the best; see the module's description."""
    tic = time.perf_counter()
    guarded = replace(splits, test=TestRowsGuard())
    folds = fold_splits(guarded, k, s.seed)
    y = encode_labels(guarded.labelled["label"], splits.labels, "target")
    n = len(y)
    oof, epochs = {}, {}
    needed = [c for c in candidates if c not in NOT_NEURAL] or (
        ["fine-tune"] if "ensemble" in candidates else [])
    for name in needed:
        logger.info(f"cross-validation: {name}, {len(folds)} folds x {s.epochs} epochs")
        per_epoch = _neural_oof(bundle, folds, n, s, name, run_strategy)
        accuracy = [(per_epoch[e].argmax(axis=1) == y).mean() for e in range(s.epochs)]
        epochs[name] = int(np.argmax(accuracy)) + 1  # the first of the best
        oof[name] = per_epoch[epochs[name] - 1]
    if {"tfidf-logreg", "ensemble"} & set(candidates):
        oof["tfidf-logreg"] = _tfidf_oof(folds, n, splits.labels, s.seed)
    weights = []
    mix = max(epochs, key=lambda name: (oof[name].argmax(axis=1) == y).mean()) if epochs \
        else "fine-tune"
    if "ensemble" in candidates:
        for w in WEIGHTS:
            mixed = w * oof[mix] + (1 - w) * oof["tfidf-logreg"]
            weights.append({"weight": float(w), "cv_accuracy": round(float(
                (mixed.argmax(axis=1) == y).mean()), 4)})
        best = max(weights, key=lambda r: (r["cv_accuracy"], r["weight"]))
        oof["ensemble"] = best["weight"] * oof[mix] + (1 - best["weight"]) * oof["tfidf-logreg"]
    table = [{"candidate": name, **{f"cv_{k}": round(v, 4) for k, v in scores(y, p).items()},
              "epochs": epochs.get(name, epochs.get(mix) if name == "ensemble" else None)}
             for name, p in oof.items() if name in candidates]
    picked = max(table, key=lambda r: r["cv_accuracy"])["candidate"]
    weight = {"tfidf-logreg": 0.0, "ensemble": best["weight"] if weights else 1.0}.get(picked,
                                                                                      1.0)
    return Choice(picked, weight, epochs, table, weights, len(folds),
                  time.perf_counter() - tic, mixed=mix)


def run_selection(bundle, splits: Splits, s: TransferRun, strategy, run_strategy) -> dict:
    """Run a strategy chosen by cross-validation (``auto``, ``ensemble``), or a plain one
    whose epochs are (``select_epochs``): choose on the labelled rows, refit the choice on all
    of them with the chosen epochs, score it on the test rows; the metrics hold the
    cross-validation table (``metrics["cv"]``)."""
    with verbosity(s.verbose):
        choice = choose(bundle, splits, s, strategy.candidates or (strategy.name,),
                        run_strategy, k=s.cv_folds)
        for line in choice_lines(choice):
            logger.info(line)
        labelled = Splits(splits.labels, splits.labelled, splits.labelled.iloc[:0],
                          splits.test, unlabeled=splits.unlabeled,
                          categories=splits.categories)
        ensemble = None
        if choice.weight < 1:
            y = encode_labels(labelled.train["label"], splits.labels, "target")
            ensemble = {"weight": choice.weight, "linear": export_tfidf_logreg(
                fit_tfidf_logreg(labelled.train["text"], y, s.seed))}
        refit = replace(s, strategy=choice.network, patience=None, select_epochs="validation",
                        epochs=choice.epochs.get(choice.network, s.epochs), scratch_check=False)
        report = {"strategy": strategy.name, "cv": choice.to_dict(),
                  **({"picked": choice.picked} if strategy.candidates else {})}
        if s.scratch_check and strategy.uses_base:  # scratch chooses its own epochs too
            logger.info("training a scratch model on the same rows to check for negative "
                        "transfer")
            ref = run_strategy(bundle, splits, replace(s, strategy=REFERENCE, out=None,
                                                       verbose=False, scratch_check=False,
                                                       resume=False, label_shift=False))
            report["scratch_check"] = {k: ref[k] for k in ("accuracy", "roc_auc",
                                                           "train_seconds")}
        return run_strategy(bundle, labelled, refit, ensemble=ensemble, report=report)


def choice_lines(choice: Choice) -> list[str]:
    """What cross-validation measured and picked, for the log."""
    lines = [f"cross-validation ({choice.folds} folds on the labelled rows, "
             f"{choice.seconds:.0f} s):"]
    lines += [f"  {r['candidate']:<13} accuracy {r['cv_accuracy']:.4f}  ROC AUC "
              f"{r['cv_roc_auc']:.4f}" + (f"  {r['epochs']} epochs" if r["epochs"] else "")
              for r in choice.table]
    picked = choice.picked + (f" ({choice.mixed} at weight {choice.weight:.1f})"
                              if choice.picked == "ensemble" else "")
    lines.append(f"  picked {picked}; refit on every labelled row")
    return lines
