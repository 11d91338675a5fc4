import os

import numpy as np
import pytest
from conftest import toy_texts
from sklearn.base import clone

from transferlearn.sklearn.baselines import (
    CatBoostText,
    LayerFeatures,
    embedding_catboost,
    embedding_logreg,
    fit_score,
    tfidf_logreg,
)


@pytest.fixture
def toy():
    texts, y = toy_texts(240, seed=3)
    return texts[:160], y[:160], texts[160:], y[160:]


def test_tfidf_logreg_learns_the_toy_task(toy):
    result = fit_score(tfidf_logreg(cv=3), *toy)
    assert result["accuracy"] >= 0.95 and result["roc_auc"] >= 0.98


def test_catboost_text_learns_and_writes_no_files(toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = CatBoostText(iterations=60, thread_count=2)
    result = fit_score(model, *toy)
    assert result["accuracy"] >= 0.9
    assert os.listdir(tmp_path) == []  # no catboost_info/
    assert clone(model).get_params()["iterations"] == 60
    proba = model.predict_proba(["great", "awful"])
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1)
    assert list(model.predict(["it is great", "it is awful"])) == [1, 0]


@pytest.mark.parametrize("layer,dim", [("embedding", 16), ("encoder", 16), ("pooling", 16),
                                       ("output", 2)])
def test_layer_features_give_one_vector_per_text(base_bundle, layer, dim):
    features = LayerFeatures(str(base_bundle), layer).fit()
    out = features.transform(["a great film", None, "awful"])
    assert out.shape == (3, dim) and np.isfinite(out).all()


def test_embedding_baselines_run_on_a_bundle(base_bundle, toy):
    for model in (embedding_logreg(str(base_bundle), cv=3),
                  embedding_catboost(str(base_bundle), iterations=30)):
        result = fit_score(model, *toy)
        assert 0.0 <= result["accuracy"] <= 1.0 and not np.isnan(result["roc_auc"])
    assert clone(embedding_logreg(str(base_bundle))).named_steps["features"].layer == "pooling"
