"""Strategies chosen by cross-validation on the labelled rows: auto and ensemble."""
import json

import numpy as np
import pytest

from transferlearn.data.splits import Splits, make_splits
from transferlearn.experiments import selection
from transferlearn.experiments.priors import fit_priors
from transferlearn.experiments.target import run_strategy
from transferlearn.model.linear import LinearTextModel, export_tfidf_logreg
from transferlearn.sklearn.baselines import fit_tfidf_logreg, tfidf_logreg


def test_the_linear_model_as_arrays_predicts_what_sklearn_predicts(amazon_texts):
    texts, y = amazon_texts
    for labels in (y, np.arange(len(y)) % 3):
        model = tfidf_logreg(0).fit(texts[:150], labels[:150])
        spec = json.loads(json.dumps(export_tfidf_logreg(model)))  # through JSON
        np.testing.assert_allclose(
            LinearTextModel(spec).predict_proba(texts[150:], labels.max() + 1),
            model.predict_proba(texts[150:]), atol=1e-12)


@pytest.fixture(scope="module")
def amazon_texts():
    from transferlearn.data import load_dataset

    df = load_dataset("amazon_snippets").sample(200, random_state=1)
    return df["text"].tolist(), (df["label"] == "positive").to_numpy(dtype=int)


def test_the_test_rows_guard_fails_on_any_use():
    guard = selection.TestRowsGuard()
    for use in (len, lambda g: g["text"], lambda g: g.shape):
        with pytest.raises(AssertionError, match="test rows were read"):
            use(guard)


@pytest.fixture(scope="module")
def target_splits(amazon_slice):
    from transferlearn.data.loading import load_data

    df, labels = load_data(str(amazon_slice), None, verbose=False)
    return make_splits(df, labels, train_size=120, seed=0)


def test_choosing_never_reads_the_test_rows(base_bundle, target_splits):
    """The choice is made with a guard in place of the test rows (reading it fails), and it
    is the same whatever the test rows are."""
    from transferlearn.config import TransferRun

    guarded = Splits(target_splits.labels, target_splits.train, target_splits.val,
                     selection.TestRowsGuard(), target_splits.unlabeled)
    s = TransferRun(base=str(base_bundle), epochs=2, verbose=False, out=None)
    bundle = base_bundle_of(base_bundle)
    priors, _ = fit_priors(bundle, None)
    candidates = ("scratch", "fine-tune", "tfidf-logreg", "ensemble", "prior", "blend")
    first = selection.choose(bundle, guarded, s, candidates, run_strategy, priors=priors)
    other = Splits(target_splits.labels, target_splits.train, target_splits.val,
                   target_splits.test.iloc[:5], target_splits.unlabeled)
    second = selection.choose(bundle, other, s, candidates, run_strategy, priors=priors)
    assert first.to_dict() | {"seconds": 0} == second.to_dict() | {"seconds": 0}
    assert {r["candidate"] for r in first.table} == set(candidates)
    assert first.picked == max(first.table, key=lambda r: r["cv_accuracy"])["candidate"]
    assert 1 <= first.epochs["fine-tune"] <= 2 and 1 <= first.epochs["scratch"] <= 2


def test_joint_is_a_candidate_and_the_ensemble_mixes_the_best_network(base_bundle,
                                                                     target_splits):
    from transferlearn.config import TransferRun

    s = TransferRun(base=str(base_bundle), epochs=2, source_rows=200, verbose=False, out=None)
    choice = selection.choose(base_bundle_of(base_bundle), target_splits, s,
                              ("fine-tune", "joint", "tfidf-logreg", "ensemble"), run_strategy,
                              k=2)
    accuracy = {r["candidate"]: r["cv_accuracy"] for r in choice.table}
    assert set(accuracy) == {"fine-tune", "joint", "tfidf-logreg", "ensemble"}
    assert choice.mixed == max(("fine-tune", "joint"), key=lambda n: accuracy[n])
    assert choice.to_dict()["network"] == choice.network
    assert choice.network == (choice.picked if choice.picked in ("fine-tune", "joint")
                              else choice.mixed)


def base_bundle_of(path):
    from transferlearn import load_bundle

    return load_bundle(path)


def test_ensemble_records_its_cv_weight_and_the_bundle_predicts_the_mix(base_bundle,
                                                                          amazon_slice,
                                                                          tmp_path):
    from transferlearn import experiments, load_bundle
    from transferlearn.model.inference import predict_proba

    m = experiments.transfer(base=str(base_bundle), data=str(amazon_slice), train_size=120,
                             strategy="ensemble", epochs=2, out=str(tmp_path / "e"),
                             verbose=False)
    cv = m["cv"]
    assert m["strategy"] == "ensemble" and m["picked"] == "ensemble"
    assert [r["weight"] for r in cv["weights"]] == pytest.approx(np.linspace(0, 1, 11))
    best = max(cv["weights"], key=lambda r: (r["cv_accuracy"], r["weight"]))
    assert cv["weight"] == best["weight"]
    assert m["n_train"] == 120 and m["n_val"] == 0  # refit on every labelled row
    bundle = load_bundle(tmp_path / "e")
    texts = ["works great", "broke after a day", None]
    w = bundle.ensemble["weight"]
    assert w == cv["weight"]
    expected = w * predict_proba(bundle.net, bundle.transform(texts)) + (1 - w) * \
        LinearTextModel(bundle.ensemble["linear"]).predict_proba(texts, 2)
    np.testing.assert_allclose(bundle.predict_proba(texts), expected, rtol=1e-6)


def test_an_ensemble_section_out_of_bounds_is_refused(base_bundle, tmp_path):
    import shutil

    from transferlearn import load_bundle
    from transferlearn.bundle.schema import config_digest
    from transferlearn.errors import BundleError

    texts = ["good", "bad", "fine product", "awful thing"] * 5
    spec = export_tfidf_logreg(fit_tfidf_logreg(texts, [1, 0, 1, 0] * 5))
    for change, message in ((lambda e: None, None),  # as written: it loads
                            (lambda e: e.update(weight=1.5), "ensemble weight"),
                            (lambda e: e["linear"].update(idf=[1.0]), "ensemble idf"),
                            (lambda e: e["linear"].update(classes=[0, 7]), "ensemble classes")):
        copy = tmp_path / f"b{len(list(tmp_path.iterdir()))}"
        shutil.copytree(base_bundle, copy)
        config = json.loads((copy / "config.json").read_text())
        config["ensemble"] = {"weight": 0.5, "linear": json.loads(json.dumps(spec))}
        change(config["ensemble"])
        config.pop("config_sha256")
        config["config_sha256"] = config_digest(config)
        (copy / "config.json").write_text(json.dumps(config))
        if message is None:
            assert load_bundle(copy).ensemble["weight"] == 0.5
            continue
        with pytest.raises(BundleError, match=message):
            load_bundle(copy)


def test_fold_runs_are_made_once_and_shared_by_the_strategies_of_a_run(base_bundle,
                                                                        target_splits,
                                                                        monkeypatch):
    """ensemble, prior, auto and a plain strategy's epochs cross-validate fine-tune on the
    same folds: trained once, reused while the base, the rows and the settings are the same."""
    from dataclasses import replace

    from transferlearn.config import TransferRun

    monkeypatch.setattr(selection, "_OOF_CACHE", {})
    calls = []

    def counting(bundle, splits, s, **kwargs):
        calls.append(s.strategy)
        return run_strategy(bundle, splits, s, **kwargs)

    bundle = base_bundle_of(base_bundle)
    s = TransferRun(base=str(base_bundle), epochs=2, verbose=False, out=None)
    first = selection.choose(bundle, target_splits, s, ("fine-tune", "tfidf-logreg",
                                                        "ensemble"), counting, k=2)
    assert calls == ["fine-tune"] * 2  # one run per fold
    priors, _ = fit_priors(bundle, None)
    second = selection.choose(bundle, target_splits, s, ("prior",), counting, k=2,
                              priors=priors)
    assert calls == ["fine-tune"] * 2 and second.epochs == first.epochs  # reused
    selection.choose(bundle, target_splits, replace(s, lr=s.lr / 2), ("fine-tune",),
                     counting, k=2)
    assert len(calls) == 4  # another learning rate: trained again
    fewer = replace(target_splits, train=target_splits.train.iloc[1:])
    selection.choose(bundle, fewer, s, ("fine-tune",), counting, k=2)
    assert len(calls) == 6  # other rows: trained again
