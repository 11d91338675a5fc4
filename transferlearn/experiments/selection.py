"""Strategies chosen and combined by cross-validation on the labelled target rows.

With a few hundred labels, early stopping on a 15-75 row validation split is noise, and so
is a choice between strategies made on it. Here every choice is made by stratified k-fold
cross-validation on the labelled rows (train + validation), and the test rows are never
read while choosing (:func:`choose` gets splits whose test rows are a guard that fails on
any use):

- each neural candidate (``scratch``, ``fine-tune``, ``joint``) trains on k-1 folds for up to
  ``epochs`` epochs without early stopping, predicting the held-out fold after every
  epoch; the number of epochs with the best mean out-of-fold accuracy is chosen;
- ``tfidf-logreg`` gives out-of-fold probabilities the same way, and so does
  ``prior-logreg``, TF-IDF + LR with the source models' logits as inputs
  (:class:`~transferlearn.sklearn.PriorLogisticRegression`; the source models are fitted
  once, :mod:`transferlearn.experiments.priors`);
- ``ensemble``: the weight ``w`` of ``w * network + (1 - w) * TF-IDF`` with the best
  out-of-fold accuracy (``w = 1``: the network alone, ``w = 0``: TF-IDF alone), the network
  being the neural candidate with the best out-of-fold accuracy (fine-tune when it is the
  only one);
- ``prior``: the same mix with ``prior-logreg`` in TF-IDF's place;
- ``blend``: the network, TF-IDF and the prior model together, ``w * network + a * TF-IDF +
  b * prior`` with the weights (``w + a + b = 1``, steps of 0.1) of best out-of-fold
  accuracy;
- ``auto``: the candidate with the best out-of-fold accuracy among its candidates (scratch,
  fine-tune, joint, TF-IDF + LR, the ensemble, the prior and the blend).

The choice is then refit on every labelled row, with the chosen number of epochs, and scored
on the test rows. The bundle holds the network and, for a mix, the linear model as arrays
(:mod:`transferlearn.model.linear`; the prior's with its source models), so
``bundle.predict`` gives the mix's labels.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..config import TransferRun, plain
from ..data.loading import encode_labels
from ..data.splits import Splits
from ..errors import DataError
from ..log import logger, verbosity
from ..model.inference import predict_proba
from ..model.linear import LinearTextModel, export_tfidf_logreg, mixture
from ..sklearn.baselines import PriorLogisticRegression, fit_tfidf_logreg
from ..training.metrics import scores
from ..transfer.strategies import REFERENCE
from .priors import fit_priors

NEURAL = ("scratch", "fine-tune", "joint")
# mix -> the linear models averaged with the network
MIXES = {"ensemble": ("tfidf-logreg",), "prior": ("prior-logreg",),
         "blend": ("tfidf-logreg", "prior-logreg")}
LINEAR = ("tfidf-logreg", "prior-logreg")
NOT_NEURAL = (*LINEAR, *MIXES)


def linear_parts(candidate: str) -> tuple:
    """The linear models a candidate needs: a mix's, a linear model itself, or none."""
    return MIXES.get(candidate, (candidate,) if candidate in LINEAR else ())
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

    picked: str  # a candidate: scratch, fine-tune, joint, tfidf-logreg, ensemble, prior...
    weight: float  # the network's weight in the mix (1: the network alone)
    epochs: dict  # candidate -> chosen number of epochs
    table: list = field(default_factory=list)  # rows: candidate, cv_accuracy, cv_roc_auc
    weights: list = field(default_factory=list)  # rows: mix, weight, cv_accuracy
    folds: int = 3
    seconds: float = 0.0
    mixed: str = "fine-tune"  # the network averaged with the linear model in a mix
    shares: dict = field(default_factory=dict)  # linear model -> its weight (1 - weight in all)

    @property
    def network(self) -> str:
        """The network strategy refit for the bundle (the mix's under a linear model)."""
        return self.mixed if self.picked in NOT_NEURAL else self.picked

    @property
    def linear(self) -> str | None:
        """The linear model(s) the bundle holds beside the network ('a+b' for a blend)."""
        names = [name for name, share in self.shares.items() if share > 0]
        return "+".join(names) if names and self.weight < 1 else None

    def to_dict(self) -> dict:
        return {"picked": self.picked, "network": self.network, "weight": self.weight,
                "linear": self.linear, "linear_weights": self.shares if self.linear else None,
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


# Fold predictions already made in this process: a comparison or a curve cross-validates
# fine-tune for fine-tune itself, ensemble, prior and auto on the same folds (and scratch for
# scratch and auto), so each is trained once. Keyed by the base's config digest, the labelled
# rows and every setting that shapes training.
_OOF_CACHE: dict = {}
_OOF_CACHE_SIZE = 16


def _oof_key(bundle, folds, fold_run: TransferRun):
    """The cache key of a candidate's fold predictions; None for a base without a digest."""
    digest = (getattr(bundle, "config", None) or {}).get("config_sha256")
    if digest is None:
        return None
    rows = hashlib.sha256()
    for held, fold in folds:
        rows.update(np.asarray(held, dtype=np.int64).tobytes())
        for frame in (fold.train, fold.test):
            rows.update("\x1f".join(map(str, frame["text"])).encode())
            rows.update("\x1f".join(map(str, frame["label"])).encode())
    settings = {k: v for k, v in plain(fold_run).items() if k != "base"}
    return digest, rows.hexdigest(), json.dumps(settings, sort_keys=True, default=str)


def _neural_oof(bundle, folds, n: int, s: TransferRun, name: str, run_strategy) -> np.ndarray:
    """Out-of-fold probabilities ``(epochs, n, classes)`` of candidate `name`, every epoch
    (made once per base, rows and settings in a process: see ``_OOF_CACHE``)."""
    fold_run = replace(s, strategy=name, out=None, verbose=False, scratch_check=False,
                       label_shift=False, resume=False, patience=None,
                       select_epochs="validation")
    key = _oof_key(bundle, folds, fold_run)
    if key in _OOF_CACHE:
        logger.info(f"cross-validation: {name}, the fold runs of an earlier strategy reused")
        return _OOF_CACHE[key]
    logger.info(f"cross-validation: {name}, {len(folds)} folds x {s.epochs} epochs")
    oof = _fold_runs(bundle, folds, n, fold_run, run_strategy)
    if key is not None:
        if len(_OOF_CACHE) >= _OOF_CACHE_SIZE:
            _OOF_CACHE.pop(next(iter(_OOF_CACHE)))
        _OOF_CACHE[key] = oof
    return oof


def _fold_runs(bundle, folds, n: int, s: TransferRun, run_strategy) -> np.ndarray:
    oof = np.zeros((s.epochs, n, len(folds[0][1].labels)))
    for held, fold in folds:
        per_epoch: list[np.ndarray] = []
        run_strategy(bundle, fold, s,
                     on_epoch=lambda job, net, seen=per_epoch: seen.append(
                         predict_proba(net, job.X["test"])))
        for epoch, proba in enumerate(per_epoch):
            oof[epoch, held] = proba
        for epoch in range(len(per_epoch), s.epochs):  # (a run stops only at the end)
            oof[epoch, held] = per_epoch[-1]
    return oof


def linear_fitter(name: str, seed: int, priors=()):
    """``fit(texts, y) -> arrays`` of the linear model `name` (``tfidf-logreg`` or
    ``prior-logreg`` on the source models `priors`)."""
    if name == "prior-logreg":
        return lambda texts, y: PriorLogisticRegression(list(priors), random_state=seed).fit(
            texts, y).export()
    return lambda texts, y: export_tfidf_logreg(fit_tfidf_logreg(texts, y, seed))


def _linear_oof(folds, n: int, labels: list, fit_arrays) -> np.ndarray:
    oof = np.zeros((n, len(labels)))
    for held, fold in folds:
        arrays = fit_arrays(fold.train["text"],
                            encode_labels(fold.train["label"], labels, "target"))
        oof[held] = LinearTextModel(arrays).predict_proba(fold.test["text"], len(labels))
    return oof


def _accuracy(y: np.ndarray, proba: np.ndarray) -> float:
    return float((proba.argmax(axis=1) == y).mean())


def _grid(k: int) -> list[tuple]:
    """Weights ``(network, linear 1, ..., linear k)`` summing to 1, all but the last taken
    from ``WEIGHTS`` (k = 1: ``(w, 1 - w)`` for every w)."""
    grid = []
    for head in itertools.product(WEIGHTS, repeat=k):
        last = round(1.0 - sum(head), 2)
        if last >= 0:
            grid.append((*map(float, head), float(last)))
    return grid


def _mix(oof: dict, y: np.ndarray, network: str, name: str) -> tuple[list, tuple]:
    """The rows of the weight search for mix `name` (`network` with its linear models) and
    the weights of best out-of-fold accuracy (the larger network weight on a tie, then the
    larger first linear weight); adds the mix to `oof`."""
    models = (network, *MIXES[name])

    def mixed(weights):
        return sum(w * oof[m] for w, m in zip(weights, models, strict=True))

    found = {weights: _accuracy(y, mixed(weights)) for weights in _grid(len(models) - 1)}
    rows: list[dict] = []
    for weights, accuracy in found.items():
        row = {"mix": name, "weight": weights[0]}
        if len(models) > 2:
            row["linear_weights"] = dict(zip(models[1:], weights[1:], strict=True))
        rows.append({**row, "cv_accuracy": round(accuracy, 4)})
    best = max(found, key=lambda w: (found[w], *w))
    oof[name] = mixed(best)
    return rows, best


def choose(bundle, splits: Splits, s: TransferRun, candidates: tuple,
           run_strategy, k: int = 3, priors=()) -> Choice:
    """Cross-validate `candidates` on the labelled rows of `splits` (never its test rows)
    and pick the best; see the module's description (`priors`: the source models of
    ``prior``)."""
    tic = time.perf_counter()
    guarded = replace(splits, test=TestRowsGuard())
    folds = fold_splits(guarded, k, s.seed)
    y = encode_labels(guarded.labelled["label"], splits.labels, "target")
    n = len(y)
    oof, epochs = {}, {}
    needed = [c for c in candidates if c not in NOT_NEURAL] or (
        ["fine-tune"] if set(MIXES) & set(candidates) else [])
    for name in needed:
        per_epoch = _neural_oof(bundle, folds, n, s, name, run_strategy)
        accuracy = [_accuracy(y, per_epoch[e]) for e in range(s.epochs)]
        epochs[name] = int(np.argmax(accuracy)) + 1  # the first of the best
        oof[name] = per_epoch[epochs[name] - 1]
    wanted = {part for c in candidates for part in linear_parts(c)}  # alone or in a mix
    for name in [part for part in LINEAR if part in wanted]:
        oof[name] = _linear_oof(folds, n, splits.labels, linear_fitter(name, s.seed, priors))
    mix = max(epochs, key=lambda name: _accuracy(y, oof[name])) if epochs else "fine-tune"
    weights, best = [], {}
    for name in MIXES:
        if name in candidates:
            rows, best[name] = _mix(oof, y, mix, name)
            weights += rows
    table = [{"candidate": name, **{f"cv_{k}": round(v, 4) for k, v in scores(y, p).items()},
              "epochs": epochs.get(name, epochs.get(mix) if name in MIXES else None)}
             for name, p in oof.items() if name in candidates]
    picked = max(table, key=lambda r: r["cv_accuracy"])["candidate"]
    if picked in MIXES:
        weight, shares = best[picked][0], dict(zip(MIXES[picked], best[picked][1:], strict=True))
    else:
        weight, shares = (0.0, {picked: 1.0}) if picked in LINEAR else (1.0, {})
    return Choice(picked, weight, epochs, table, weights, len(folds),
                  time.perf_counter() - tic, mixed=mix, shares=shares)


def _priors(bundle, s: TransferRun, strategy, candidates: tuple) -> tuple:
    """``(candidates, source models, report)``: the source models when a candidate needs
    them; ``auto`` goes on without the prior when the source rows cannot be read."""
    needing = {c for c in candidates if "prior-logreg" in linear_parts(c)}
    if not needing:
        return candidates, [], None
    try:
        specs, report = fit_priors(bundle, s.source_data, s.seed, s.verbose)
    except DataError as e:
        if strategy.name in candidates:
            raise
        logger.info(f"{strategy.name}: no {' or '.join(sorted(needing))} candidate ({e})")
        return tuple(c for c in candidates if c not in needing), [], None
    return candidates, specs, report


def run_selection(bundle, splits: Splits, s: TransferRun, strategy, run_strategy) -> dict:
    """Run a strategy chosen by cross-validation (``auto``, ``ensemble``, ``prior``), or a
    plain one whose epochs are (``select_epochs``): choose on the labelled rows, refit the
    choice on all of them with the chosen epochs, score it on the test rows; the metrics hold
    the cross-validation table (``metrics["cv"]``)."""
    with verbosity(s.verbose):
        candidates, priors, sources = _priors(bundle, s, strategy,
                                              strategy.candidates or (strategy.name,))
        choice = choose(bundle, splits, s, candidates, run_strategy, k=s.cv_folds,
                        priors=priors)
        for line in choice_lines(choice):
            logger.info(line)
        labelled = Splits(splits.labels, splits.labelled, splits.labelled.iloc[:0],
                          splits.test, unlabeled=splits.unlabeled,
                          categories=splits.categories)
        ensemble = None
        report = {"strategy": strategy.name, "cv": choice.to_dict(),
                  **({"picked": choice.picked} if strategy.candidates else {})}
        if choice.weight < 1:
            ensemble, fitted = _fit_linear(choice, labelled, s.seed, priors)
            if "prior-logreg" in fitted:
                report["prior"] = prior_report(fitted["prior-logreg"], sources)
                logger.info(f"prior: source logit coefficients {report['prior']['coef']}")
        refit = replace(s, strategy=choice.network, patience=None, select_epochs="validation",
                        epochs=choice.epochs.get(choice.network, s.epochs), scratch_check=False)
        if s.scratch_check and strategy.uses_base:  # scratch chooses its own epochs too
            logger.info("training a scratch model on the same rows to check for negative "
                        "transfer")
            ref = run_strategy(bundle, splits, replace(s, strategy=REFERENCE, out=None,
                                                       verbose=False, scratch_check=False,
                                                       resume=False, label_shift=False))
            report["scratch_check"] = {k: ref[k] for k in ("accuracy", "roc_auc",
                                                           "train_seconds")}
        return run_strategy(bundle, labelled, refit, ensemble=ensemble, report=report)


def _fit_linear(choice: Choice, labelled: Splits, seed: int, priors) -> tuple[dict, dict]:
    """``(ensemble, fitted)``: what a bundle holds beside the network (its weight and the
    chosen linear model, or mixture of them, fitted on every labelled row), and each linear
    model's arrays by name."""
    y = encode_labels(labelled.train["label"], labelled.labels, "target")
    fitted = {name: linear_fitter(name, seed, priors)(labelled.train["text"], y)
              for name, share in choice.shares.items() if share > 0}
    linear = mixture([(choice.shares[name], arrays) for name, arrays in fitted.items()])
    return {"weight": choice.weight, "linear": linear}, fitted


def prior_report(arrays: dict, sources: list | None) -> dict:
    """The source models a prior model was given, and the coefficients it learned for their
    logits (rows: one for two classes; 0: the source is ignored)."""
    n_terms = len(arrays["terms"])
    return {"sources": sources or [],
            "coef": [[round(c, 4) for c in row[n_terms:]] for row in arrays["coef"]]}


def choice_lines(choice: Choice) -> list[str]:
    """What cross-validation measured and picked, for the log."""
    lines = [f"cross-validation ({choice.folds} folds on the labelled rows, "
             f"{choice.seconds:.0f} s):"]
    lines += [f"  {r['candidate']:<13} accuracy {r['cv_accuracy']:.4f}  ROC AUC "
              f"{r['cv_roc_auc']:.4f}" + (f"  {r['epochs']} epochs" if r["epochs"] else "")
              for r in choice.table]
    picked = choice.picked + (f" ({mix_description(choice.mixed, choice.weight, choice.shares)})"
                              if choice.picked in MIXES else "")
    lines.append(f"  picked {picked}; refit on every labelled row")
    return lines


def mix_description(network: str, weight: float, shares: dict) -> str:
    """``fine-tune at weight 0.3`` (and, for a blend, ``; tfidf-logreg 0.4, prior-logreg
    0.3``): what a mix holds."""
    text = f"{network} at weight {weight:.1f}"
    if len(shares) > 1:
        text += "; " + ", ".join(f"{name} {share:g}" for name, share in shares.items())
    return text
