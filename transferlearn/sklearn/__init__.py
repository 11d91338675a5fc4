"""scikit-learn estimators: ``GluonTextClassifier``, ``LayerEmbedder`` and the baselines."""
from .baselines import (
    CatBoostText,
    LayerFeatures,
    PriorLogisticRegression,
    embedding_catboost,
    embedding_logreg,
    fit_score,
    fit_source_logreg,
    fit_tfidf_logreg,
    source_logreg,
    tfidf_logreg,
)
from .estimator import (
    GluonTextClassifier,
    LayerEmbedder,
)

__all__ = [
    "CatBoostText",
    "GluonTextClassifier",
    "LayerEmbedder",
    "LayerFeatures",
    "PriorLogisticRegression",
    "embedding_catboost",
    "embedding_logreg",
    "fit_score",
    "fit_source_logreg",
    "fit_tfidf_logreg",
    "source_logreg",
    "tfidf_logreg",
]
