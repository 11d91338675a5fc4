"""Classic baselines with one interface: ``fit(texts, y)`` then ``score(texts, y)``."""
from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegressionCV
from sklearn.pipeline import Pipeline

from .text import DEFAULT_TOKEN_PATTERN


def tfidf_logreg(random_state: int = 0, cv: int = 5) -> Pipeline:
    """TF-IDF over word 1-2 grams + logistic regression with C chosen by cross-validation."""
    return Pipeline([
        ("tfidf", TfidfVectorizer(ngram_range=(1, 2), token_pattern=DEFAULT_TOKEN_PATTERN,
                                  sublinear_tf=True, min_df=1)),
        ("clf", LogisticRegressionCV(Cs=np.logspace(-2, 2, 9).tolist(), cv=cv, max_iter=2000,
                                     random_state=random_state, scoring="accuracy")),
    ])


def fit_score(model, train_texts, y_train, test_texts, y_test) -> dict:
    """Fit `model` on the training texts and return accuracy and ROC AUC on the test texts."""
    from .train import scores

    model.fit(list(train_texts), y_train)
    proba = model.predict_proba(list(test_texts))
    full = np.zeros((len(proba), int(max(np.max(y_train), np.max(y_test))) + 1))
    full[:, model.classes_] = proba
    return scores(y_test, full)
