"""GluonTextClassifier and LayerEmbedder as scikit-learn estimators on raw texts."""
import numpy as np
import pandas as pd
import pytest
from conftest import toy_texts
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from transferlearn.bundle.store import load_bundle
from transferlearn.sklearn.estimator import GluonTextClassifier, LayerEmbedder

SMALL = dict(encoder="mean", embed_dim=8, hidden_size=8, max_len=8, epochs=8, lr=1e-2,
             batch_size=16)


def _toy(n=240, seed=0):
    texts, y = toy_texts(n, seed)
    labels = np.where(np.asarray(y) == 1, "good", "bad")
    return list(texts), labels


@pytest.mark.parametrize("check", [check_no_attributes_set_in_init,
                                   check_parameters_default_constructible,
                                   check_get_params_invariance, check_set_params])
def test_sklearn_estimator_checks(check):
    check("GluonTextClassifier", GluonTextClassifier())


def test_learns_and_speaks_in_the_users_labels(tmp_path):
    texts, labels = _toy()
    clf = GluonTextClassifier(**SMALL).fit(texts[:180], labels[:180])
    assert list(clf.classes_) == ["bad", "good"]
    assert clf.score(texts[180:], labels[180:]) >= 0.9
    proba = clf.predict_proba(texts[180:])
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert set(clf.predict(texts[:5])) <= {"bad", "good"}
    # a Series and a one-column DataFrame are read as texts too
    frame = pd.DataFrame({"text": texts[180:]})
    np.testing.assert_allclose(clf.predict_proba(frame), proba, rtol=1e-5)
    clf.save(tmp_path / "bundle")
    assert load_bundle(tmp_path / "bundle").predict(texts[180:185]) == list(
        clf.predict(texts[180:185]))


def test_clone_and_grid_search_in_a_pipeline():
    texts, labels = _toy(160)
    clf = GluonTextClassifier(**{**SMALL, "epochs": 3})
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params() and not hasattr(cloned, "net_")
    search = GridSearchCV(make_pipeline(clf), {"gluontextclassifier__lr": [1e-2, 1e-4]}, cv=2)
    search.fit(texts, labels)
    assert search.best_params_ == {"gluontextclassifier__lr": 1e-2}  # 1e-4 barely moves
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_init_from_transfers_vocabulary_and_weights(base_bundle):
    texts, labels = _toy(120)
    clf = GluonTextClassifier(init_from=str(base_bundle), strategy="fine-tune", epochs=1,
                              random_state=0).fit(texts, labels)
    bundle = load_bundle(base_bundle)
    assert clf.net_.config["embed_dim"] == bundle.net.config["embed_dim"]
    vocab = clf.pipeline_.named_steps["index"].vocab_
    assert vocab.idx_to_token[:len(bundle.vocab)] == bundle.vocab.idx_to_token  # extended
    assert clf.transfer_report_["embedding.weight"].startswith("mapped")
    frozen = GluonTextClassifier(init_from=str(base_bundle), strategy="feature-extract",
                                 epochs=1).fit(texts, labels)
    assert frozen.net_.embedding.weight.grad_req == "null"


def test_layer_embedder_feeds_any_sklearn_model(base_bundle):
    texts, labels = _toy(100)
    model = make_pipeline(LayerEmbedder(str(base_bundle), layer="encoder"),
                          LogisticRegression(max_iter=500))
    model.fit(texts, labels)
    features = model[0].transform(texts[:3])
    assert features.shape == (3, load_bundle(base_bundle).net.encoder.out_units)
    assert set(model.predict(texts[:4])) <= {"bad", "good"}


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="need at least 2 classes"):
        GluonTextClassifier(**SMALL).fit(["a", "b", "c"], ["x", "x", "x"])
    with pytest.raises(ValueError, match="one text per row"):
        GluonTextClassifier(**SMALL).fit(np.array([["a", "b"], ["c", "d"]]), ["x", "y"])


def test_a_fitted_estimator_pickles_and_loads_through_the_bundle_format(tmp_path):
    """``joblib.dump(grid.best_estimator_)`` works: the network travels as its config and
    parameter bytes; ``GluonTextClassifier.load`` gives a fitted estimator from a bundle."""
    import joblib

    texts, labels = _toy(80)
    clf = GluonTextClassifier(**SMALL).fit(texts, labels)
    joblib.dump(clf, tmp_path / "clf.joblib")
    again = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_allclose(again.predict_proba(texts[:10]), clf.predict_proba(texts[:10]),
                               rtol=1e-6)
    assert again.get_params() == clf.get_params()
    clf.save(tmp_path / "bundle")
    loaded = GluonTextClassifier.load(tmp_path / "bundle")
    assert list(loaded.predict(texts[:10])) == list(clf.predict(texts[:10]))
    assert loaded.embed_dim == clf.embed_dim and list(loaded.classes_) == ["bad", "good"]
    assert len(loaded.history_.epochs) == len(clf.history_.epochs)


def test_strategies_chosen_by_cross_validation_are_not_an_init_from_strategy(base_bundle):
    with pytest.raises(ValueError, match="'auto' does not"):
        GluonTextClassifier(init_from=str(base_bundle), strategy="auto").fit(
            ["good", "bad"] * 10, [1, 0] * 10)
