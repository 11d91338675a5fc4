"""The ``blend`` strategy: the network, TF-IDF + LR and the prior model averaged, with the
three weights chosen by cross-validation on the labelled rows."""
import json

import numpy as np
import pytest

from transferlearn.experiments import selection
from transferlearn.model.linear import LinearTextModel, mixture


def test_the_weight_search_covers_both_two_way_mixes_and_picks_its_best():
    """The grid holds every (network, TF-IDF, prior) weight in steps of 0.1 summing to 1, so
    the blend is never below the ensemble or the prior on the folds; the pick is its best."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 90)
    noisy = {name: np.clip(np.eye(2)[y] + rng.normal(0, scale, (90, 2)), 0.01, None)
             for name, scale in (("fine-tune", 0.9), ("tfidf-logreg", 1.0),
                                 ("prior-logreg", 0.8))}
    oof = {name: p / p.sum(axis=1, keepdims=True) for name, p in noisy.items()}
    rows, best = selection._mix(dict(oof), y, "fine-tune", "blend")
    assert len(rows) == 66 and all(r["mix"] == "blend" for r in rows)
    for r in rows:
        assert r["weight"] + sum(r["linear_weights"].values()) == pytest.approx(1.0)
    top = max(r["cv_accuracy"] for r in rows)
    assert [r["cv_accuracy"] for r in rows if
            (r["weight"], *r["linear_weights"].values()) == best] == [top]
    for two_way in ("ensemble", "prior"):
        two_rows, _ = selection._mix(dict(oof), y, "fine-tune", two_way)
        assert len(two_rows) == 11 and top >= max(r["cv_accuracy"] for r in two_rows)


def test_the_blend_strategy_records_its_weights_and_the_bundle_predicts_the_mix(
        base_bundle, amazon_slice, tmp_path, monkeypatch):
    """With one grid point (0.25 network, 0.25 TF-IDF, 0.5 prior), the bundle holds both
    linear models refit on every labelled row, weighted 1/3 and 2/3 in its mixture, and
    predicts 0.25 * network + 0.25 * TF-IDF + 0.5 * prior."""
    from transferlearn import experiments, load_bundle
    from transferlearn.data.loading import encode_labels
    from transferlearn.model.inference import predict_proba
    from transferlearn.sklearn import fit_tfidf_logreg

    monkeypatch.setattr(selection, "WEIGHTS", np.array([0.25]))
    m = experiments.transfer(base=str(base_bundle), data=str(amazon_slice), train_size=120,
                             strategy="blend", epochs=2, out=str(tmp_path / "b"),
                             verbose=False)
    cv = m["cv"]
    assert m["picked"] == "blend" and cv["linear"] == "tfidf-logreg+prior-logreg"
    assert cv["weight"] == 0.25
    assert cv["linear_weights"] == {"tfidf-logreg": 0.25, "prior-logreg": 0.5}
    assert [(r["mix"], r["weight"], r["linear_weights"]) for r in cv["weights"]] == [
        ("blend", 0.25, {"tfidf-logreg": 0.25, "prior-logreg": 0.5})]
    assert len(m["prior"]["coef"]) == 1  # the prior model's source coefficient, reported
    bundle = load_bundle(tmp_path / "b")
    parts = bundle.ensemble["linear"]["mixture"]
    assert [p["weight"] for p in parts] == pytest.approx([1 / 3, 2 / 3])
    tfidf, prior = (p["model"] for p in parts)
    assert "priors" not in tfidf and len(prior["priors"]) == 1
    splits = experiments.target_splits(str(amazon_slice), train_size=120)
    y = encode_labels(splits.labelled["label"], splits.labels, "target")
    texts = ["works great", "broke after a day", None, "it is fine I guess"]
    given = [t for t in texts if t is not None]
    refit = fit_tfidf_logreg(splits.labelled["text"], y, 0).predict_proba(given)
    np.testing.assert_allclose(LinearTextModel(tfidf).predict_proba(given, 2), refit,
                               atol=1e-8)
    expected = 0.25 * predict_proba(bundle.net, bundle.transform(texts)) + \
        0.25 * LinearTextModel(tfidf).predict_proba(texts, 2) + \
        0.5 * LinearTextModel(prior).predict_proba(texts, 2)
    np.testing.assert_allclose(bundle.predict_proba(texts), expected, rtol=1e-6)
    assert bundle.predict(texts) == [splits.labels[i] for i in expected.argmax(axis=1)]
    assert selection.mix_description(cv["network"], cv["weight"], cv["linear_weights"]) == \
        "fine-tune at weight 0.2; tfidf-logreg 0.25, prior-logreg 0.5"


def test_a_mixture_of_one_model_is_that_model():
    arrays = {"terms": ["a"], "idf": [1.0], "ngram_range": [1, 1], "coef": [[1.0]],
              "intercept": [0.0], "classes": [0, 1]}
    assert mixture([(0.4, arrays), (0.0, {"other": 1})]) is arrays
    both = mixture([(0.2, arrays), (0.6, arrays)])
    assert [p["weight"] for p in both["mixture"]] == pytest.approx([0.25, 0.75])


@pytest.mark.parametrize("change, message", [
    (lambda mix: mix["mixture"].pop(), "a list of 2 to 4 parts"),
    (lambda mix: mix["mixture"][0].update(weight=0.9), "must sum to 1"),
    (lambda mix: mix["mixture"][1].update(weight=-0.5), r"must be a number in \[0, 1\]"),
    (lambda mix: mix["mixture"][0].pop("model"), "objects with weight and model"),
    (lambda mix: mix["mixture"][0]["model"]["coef"][0].pop(), "ensemble coef rows"),
    (lambda mix: mix.update(extra=1), "a list of 2 to 4 parts"),
    (lambda mix: mix.update(mixture=mix["mixture"] * 3), "a list of 2 to 4 parts"),
])
def test_a_mixture_out_of_bounds_is_refused(change, message):
    from transferlearn.bundle.schema import SchemaError, check_ensemble

    arrays = {"terms": ["good", "bad"], "idf": [1.0, 1.2], "ngram_range": [1, 2],
              "coef": [[1.0, -1.0]], "intercept": [0.1], "classes": [0, 1]}
    mix = mixture([(0.3, arrays), (0.5, json.loads(json.dumps(arrays)))])
    assert check_ensemble({"weight": 0.2, "linear": json.loads(json.dumps(mix))}, 2)
    broken = json.loads(json.dumps(mix))
    change(broken)
    with pytest.raises(SchemaError, match=message):
        check_ensemble({"weight": 0.2, "linear": broken}, 2)
