"""The ``prior`` strategy: source models' logits as inputs of the target's linear model."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from transferlearn.config import FRAME_PREFIX, TransferRun
from transferlearn.errors import DataError
from transferlearn.experiments import priors as priors_module
from transferlearn.experiments import selection
from transferlearn.model.linear import LinearTextModel
from transferlearn.sklearn import PriorLogisticRegression, fit_source_logreg, fit_tfidf_logreg
from transferlearn.transfer.strategies import get as get_strategy


@pytest.fixture(scope="module")
def texts():
    from transferlearn.data import load_dataset

    movie = load_dataset("movie_snippets").sample(1500, random_state=2)
    amazon = load_dataset("amazon_snippets").sample(300, random_state=3)
    return ({"texts": movie["text"].tolist(),
             "y": (movie["label"] == "positive").to_numpy(dtype=int)},
            {"texts": amazon["text"].tolist(),
             "y": (amazon["label"] == "positive").to_numpy(dtype=int)})


def test_a_zero_prior_scale_gives_plain_tfidf_logreg(texts):
    source, target = texts
    spec = fit_source_logreg(source["texts"], source["y"])
    train, y, held = target["texts"][:200], target["y"][:200], target["texts"][200:]
    plain = fit_tfidf_logreg(train, y, 0).predict_proba(held)
    for model in (PriorLogisticRegression([spec], prior_scale=0.0),
                  PriorLogisticRegression([])):
        model.fit(train, y)
        np.testing.assert_allclose(model.predict_proba(held), plain, atol=1e-6)
    zero = PriorLogisticRegression([spec], prior_scale=0.0).fit(train, y)
    assert zero.prior_coef() == [[0.0]]
    np.testing.assert_allclose(LinearTextModel(zero.export()).predict_proba(held, 2), plain,
                               atol=1e-6)


def test_the_source_logit_gets_a_positive_coefficient_and_the_arrays_predict_the_same(texts):
    """A movie model knows what positive means: the target trusts its logit (coefficient > 0),
    and the exported arrays (with the source model inside) predict what the estimator does,
    for a binary target and a 3-class one, with a 3-class source beside the binary one."""
    source, target = texts
    binary = fit_source_logreg(source["texts"], source["y"])
    three = fit_source_logreg(source["texts"], np.arange(len(source["y"])) % 3)
    train, held = target["texts"][:200], target["texts"][200:]
    model = PriorLogisticRegression([binary]).fit(train, target["y"][:200])
    assert model.prior_coef()[0][0] > 0
    for labels in (target["y"], np.arange(len(target["y"])) % 3):
        model = PriorLogisticRegression([binary, three], prior_scale=2.0).fit(
            train, labels[:200])
        spec = json.loads(json.dumps(model.export()))
        assert len(spec["priors"]) == 2 and len(spec["coef"][0]) == len(spec["terms"]) + 4
        np.testing.assert_allclose(LinearTextModel(spec).predict_proba(held, labels.max() + 1),
                                   model.predict_proba(held), atol=1e-10)


def test_the_prior_strategy_records_its_choice_and_the_bundle_predicts_the_mix(
        base_bundle, amazon_slice, movie_slice, tmp_path, monkeypatch):
    from transferlearn import experiments, load_bundle
    from transferlearn.model.inference import predict_proba

    monkeypatch.setattr(selection, "WEIGHTS", np.array([0.0, 0.5]))  # a linear part, always
    m = experiments.transfer(base=str(base_bundle), data=str(amazon_slice), train_size=120,
                             strategy="prior", epochs=2, out=str(tmp_path / "p"),
                             verbose=False)
    cv = m["cv"]
    assert m["picked"] == "prior" and cv["linear"] == "prior-logreg"
    assert [(r["mix"], r["weight"]) for r in cv["weights"]] == [("prior", 0.0), ("prior", 0.5)]
    assert cv["weight"] == max(cv["weights"], key=lambda r: (r["cv_accuracy"],
                                                             r["weight"]))["weight"]
    [source] = m["prior"]["sources"]
    assert source["source"] == str(movie_slice) and source["rows"] == 800
    assert len(m["prior"]["coef"]) == 1 and len(m["prior"]["coef"][0]) == 1
    bundle = load_bundle(tmp_path / "p")
    linear = bundle.ensemble["linear"]
    assert len(linear["priors"]) == 1
    np.testing.assert_allclose([row[len(linear["terms"]):] for row in linear["coef"]],
                               m["prior"]["coef"], atol=1e-4)
    assert (tmp_path / "p" / "linear.json").is_file()  # the arrays: not in config.json
    assert json.loads((tmp_path / "p" / "config.json").read_text())["ensemble"] == {
        "weight": w_of(m), "linear": "linear.json"}
    texts = ["works great", "broke after a day", None]
    w = bundle.ensemble["weight"]
    expected = w * predict_proba(bundle.net, bundle.transform(texts)) + (1 - w) * \
        LinearTextModel(linear).predict_proba(texts, 2)
    np.testing.assert_allclose(bundle.predict_proba(texts), expected, rtol=1e-6)


def w_of(metrics: dict) -> float:
    return metrics["cv"]["weight"]


def test_auto_goes_on_without_the_prior_when_the_source_is_gone_and_prior_says_why():
    base = SimpleNamespace(config={"training": {"data": FRAME_PREFIX + "frame"}})
    s = TransferRun(verbose=False)
    auto = get_strategy("auto")
    candidates, specs, _ = selection._priors(base, s, auto, auto.candidates)
    assert {"prior", "blend"}.isdisjoint(candidates) and "scratch" in candidates
    assert specs == []
    with pytest.raises(DataError, match="DataFrame"):
        selection._priors(base, s, get_strategy("prior"), ("prior",))


def test_source_models_are_fitted_once_per_file_and_again_when_it_changes(tmp_path,
                                                                          monkeypatch):
    import os

    calls = []
    real = priors_module._fit_one
    monkeypatch.setattr(priors_module, "_fit_one",
                        lambda *a: calls.append(a[0]) or real(*a))
    monkeypatch.setattr(priors_module, "_CACHE", {})
    path = tmp_path / "source.csv"
    rows = "text,label\n" + "good fun,pos\nawful bore,neg\n" * 10
    path.write_text(rows)
    base = SimpleNamespace(config={"training": {}})
    first, report = priors_module.fit_priors(base, str(path))
    again, _ = priors_module.fit_priors(base, str(path))
    assert again[0] is first[0] and len(calls) == 1 and report[0]["labels"] == ["neg", "pos"]
    path.write_text(rows.replace("awful", "dreadful") + "so so,neg\n")
    os.utime(path, ns=(1, 1))  # a new time and size: the file changed
    changed, _ = priors_module.fit_priors(base, str(path))
    assert len(calls) == 2 and "dreadful" in changed[0]["terms"]
    both, report = priors_module.fit_priors(base, f"{path},{path}")
    assert len(both) == 2 and [r["rows"] for r in report] == [21, 21]


@pytest.mark.parametrize("change, message", [
    (lambda lin: lin["priors"].append("x"), "ensemble prior linear"),
    (lambda lin: lin["coef"][0].pop(), "ensemble coef rows"),
    (lambda lin: lin["priors"][0].update(classes=[0, -1]), "ensemble prior classes"),
    (lambda lin: lin["priors"][0].update(priors=[]), "ensemble prior linear must hold"),
    (lambda lin: lin.update(priors=[lin["priors"][0]] * 9), "at most 8"),
])
def test_a_prior_section_out_of_bounds_is_refused(texts, change, message):
    from transferlearn.bundle.schema import SchemaError, check_ensemble

    source, target = texts
    spec = PriorLogisticRegression([fit_source_logreg(source["texts"][:200],
                                                      source["y"][:200])]).fit(
        target["texts"][:100], target["y"][:100]).export()
    assert check_ensemble({"weight": 0.3, "linear": json.loads(json.dumps(spec))}, 2)
    broken = json.loads(json.dumps(spec))
    change(broken)
    with pytest.raises(SchemaError, match=message):
        check_ensemble({"weight": 0.3, "linear": broken}, 2)


def test_a_changed_or_misnamed_linear_file_is_refused(base_bundle, amazon_slice, tmp_path,
                                                      monkeypatch):
    from transferlearn import experiments, load_bundle
    from transferlearn.bundle.schema import config_digest
    from transferlearn.errors import BundleError

    monkeypatch.setattr(selection, "WEIGHTS", np.array([0.0]))
    out = tmp_path / "p"
    experiments.transfer(base=str(base_bundle), data=str(amazon_slice), train_size=60,
                         strategy="prior", epochs=1, out=str(out), verbose=False)
    assert load_bundle(out).ensemble["weight"] == 0.0
    config = json.loads((out / "config.json").read_text())
    config["ensemble"]["linear"] = "../elsewhere.json"
    config["config_sha256"] = config_digest(config)
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match="ensemble linear must be 'linear.json'"):
        load_bundle(out)
    linear = json.loads((out / "linear.json").read_text())
    linear["intercept"] = [5.0]
    (out / "linear.json").write_text(json.dumps(linear))
    with pytest.raises(BundleError, match="linear.json: sha256 does not match"):
        load_bundle(out)
