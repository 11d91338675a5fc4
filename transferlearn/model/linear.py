"""TF-IDF + logistic regression as plain arrays, so that a bundle can carry it as JSON.

:func:`export_tfidf_logreg` turns a fitted ``TfidfVectorizer`` + ``LogisticRegression``
pipeline (:func:`transferlearn.sklearn.tfidf_logreg`) into a dict of lists (terms in column
order, idf weights, coefficients, intercepts, class indices); :class:`LinearTextModel`
applies it again, with the same tokenisation, and gives the same probabilities. Nothing is
unpickled, so a bundle from an untrusted place stays safe to load (the dict is checked by
:func:`transferlearn.bundle.schema.check_ensemble` first).

A model may carry ``priors``: source models of the same form (trained on source texts, with
the source's own labels) whose decision values are extra input columns, after the TF-IDF
terms, with their own coefficients: the ``prior`` strategy's target model
(:class:`transferlearn.sklearn.PriorLogisticRegression`). A zero coefficient on those columns
gives the plain TF-IDF model.
"""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from ..data.text import DEFAULT_TOKEN_PATTERN, NullImputer


def export_tfidf_logreg(pipeline) -> dict:
    """The arrays of a fitted ``Pipeline([("tfidf", TfidfVectorizer), ("clf", LR)])``."""
    return export_linear(pipeline.named_steps["tfidf"], pipeline.named_steps["clf"])


def export_linear(vectorizer, clf, priors: list | None = None) -> dict:
    """The arrays of a fitted ``TfidfVectorizer`` and logistic regression, whose coefficients
    cover the vectorizer's terms and then the decision columns of `priors` (specs)."""
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)  # column order
    spec = {"terms": terms, "idf": vectorizer.idf_.tolist(),
            "ngram_range": [int(n) for n in vectorizer.ngram_range],
            "coef": clf.coef_.tolist(), "intercept": clf.intercept_.tolist(),
            "classes": [int(c) for c in clf.classes_]}
    if priors:
        spec["priors"] = list(priors)
    return spec


def prior_columns(spec: dict) -> int:
    """How many decision columns a model adds as a prior (1 when binary)."""
    return 1 if len(spec["classes"]) == 2 else len(spec["classes"])


class LinearTextModel:
    """TF-IDF features (word n-grams, sublinear tf, l2 norm) times logistic-regression
    weights, from the dict of :func:`export_tfidf_logreg`."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.vectorizer = TfidfVectorizer(
            ngram_range=tuple(spec["ngram_range"]), token_pattern=DEFAULT_TOKEN_PATTERN,
            sublinear_tf=True, vocabulary={t: i for i, t in enumerate(spec["terms"])})
        self.vectorizer.idf_ = np.asarray(spec["idf"], dtype=np.float64)
        self.coef = np.asarray(spec["coef"], dtype=np.float64)  # (1 or n_classes, terms + priors)
        self.intercept = np.asarray(spec["intercept"], dtype=np.float64)
        self.classes = np.asarray(spec["classes"], dtype=int)
        self.priors = [LinearTextModel(p) for p in spec.get("priors", ())]

    def decision(self, texts) -> np.ndarray:
        """Logits ``(n, 1)`` for two classes (the second's), ``(n, n_classes)`` otherwise."""
        texts = NullImputer().fit_transform(list(texts))
        X = self.vectorizer.transform(texts)
        n_terms = len(self.spec["terms"])
        logits = np.asarray(X @ self.coef[:, :n_terms].T) + self.intercept
        if self.priors:  # the source models' decision values, (n, prior columns)
            P = np.hstack([prior.decision(texts) for prior in self.priors])
            logits += P @ self.coef[:, n_terms:].T
        return logits

    def predict_proba(self, texts, num_classes: int) -> np.ndarray:
        """Class probabilities ``(n, num_classes)``; classes the model never saw get 0."""
        logits = self.decision(texts)  # (n, 1 or n_classes)
        if self.coef.shape[0] == 1:  # binary: the logit of the second class
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            proba = np.stack([1.0 - p, p], axis=1)
        else:
            logits = logits - logits.max(axis=1, keepdims=True)
            proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        full = np.zeros((len(proba), num_classes))
        full[:, self.classes] = proba
        return full


class LinearMixture:
    """A weighted average of linear models' probabilities, from ``{"mixture": [{"weight": w,
    "model": arrays}, ...]}`` (weights summing to 1): the ``blend`` strategy's TF-IDF model
    and prior model together."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.parts = [(float(part["weight"]), LinearTextModel(part["model"]))
                      for part in spec["mixture"]]

    def predict_proba(self, texts, num_classes: int) -> np.ndarray:
        texts = list(texts)
        proba = np.zeros((len(texts), num_classes))
        for weight, model in self.parts:
            proba += weight * model.predict_proba(texts, num_classes)
        return proba


def mixture(parts: list[tuple[float, dict]]) -> dict:
    """The arrays of a mixture of `parts` ``(weight, arrays)``, weights made to sum to 1;
    a single part with a positive weight is just its arrays."""
    parts = [(w, arrays) for w, arrays in parts if w > 0]
    if len(parts) == 1:
        return parts[0][1]
    total = sum(w for w, _ in parts)
    return {"mixture": [{"weight": w / total, "model": arrays} for w, arrays in parts]}


def linear_model(spec: dict) -> LinearTextModel | LinearMixture:
    """The model of a bundle's (or a mix's) linear arrays: one model, or a mixture."""
    return LinearMixture(spec) if "mixture" in spec else LinearTextModel(spec)


def blend(net_proba: np.ndarray, weight: float, linear, texts) -> np.ndarray:
    """An ensemble's probabilities: ``weight * net + (1 - weight) * linear`` (`linear`: a
    :class:`LinearTextModel` or a :class:`LinearMixture`)."""
    return weight * net_proba + (1 - weight) * linear.predict_proba(texts, net_proba.shape[1])


__all__ = ["LinearMixture", "LinearTextModel", "blend", "export_tfidf_logreg", "linear_model",
           "mixture"]
