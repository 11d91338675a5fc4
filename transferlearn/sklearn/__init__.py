"""scikit-learn estimators: ``GluonTextClassifier``, ``LayerEmbedder`` and the baselines."""
from .baselines import (
    CatBoostText,
    LayerFeatures,
    embedding_catboost,
    embedding_logreg,
    fit_score,
    fit_tfidf_logreg,
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
    "embedding_catboost",
    "embedding_logreg",
    "fit_score",
    "fit_tfidf_logreg",
    "tfidf_logreg",
]
