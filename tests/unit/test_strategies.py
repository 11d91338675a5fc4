"""Strategies are registered objects: the scripts, `all`, negative-transfer flags and curve
markers come from the registry, and a new strategy is one registration."""
from __future__ import annotations

import importlib.util

import pandas as pd
import pytest
from conftest import ROOT

from transferlearn import experiments
from transferlearn.bundle.store import load_bundle
from transferlearn.errors import DataError
from transferlearn.experiments import curves
from transferlearn.sklearn.estimator import GluonTextClassifier
from transferlearn.transfer import strategies
from transferlearn.transfer.freezing import freeze


def transfer_parser():
    spec = importlib.util.spec_from_file_location("transfer_script",
                                                  ROOT / "scripts" / "transfer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_offers_exactly_the_registry():
    script = transfer_parser()
    assert script.strategies("all") == strategies.default_names() == (
        "scratch", "feature-extract", "fine-tune", "gradual", "ensemble", "prior", "blend",
        "auto")
    assert script.strategies(",".join(strategies.names())) == strategies.names()
    with pytest.raises(Exception, match="choose one of " + ", ".join(strategies.names())):
        script.strategies("magic")
    with pytest.raises(DataError, match="unknown strategy 'magic'; choose one of scratch, "):
        strategies.get("magic")


def test_strategy_names_forgive_case_and_underscores_and_suggest_near_misses():
    script = transfer_parser()
    assert script.strategies("fine_tune, Feature_Extract") == ("fine-tune", "feature-extract")
    assert strategies.get("FINE_TUNE").name == "fine-tune"
    with pytest.raises(Exception, match=r"'finetune' \(did you mean 'fine-tune'\?\)"):
        script.strategies("finetune")
    with pytest.raises(DataError, match=r"'grdual' \(did you mean 'gradual'\?\)"):
        strategies.get("grdual")
    with pytest.raises(DataError, match=r"unknown strategy 'xyzzy'; choose"):
        strategies.canonical("xyzzy")  # nothing near: no suggestion


def test_the_api_takes_the_underscore_spelling_and_records_the_registered_one(base_bundle,
                                                                              movie_slice):
    metrics = experiments.transfer(base=str(base_bundle), data=str(movie_slice), out=None,
                                strategy="feature_extract", train_size=120, epochs=1,
                                verbose=False)
    assert metrics["strategy"] == "feature-extract"


def test_every_strategy_that_uses_the_base_is_checked_for_negative_transfer():
    assert set(curves.TRANSFER_STRATEGIES) == set(strategies.names()) - {"scratch"}
    assert {"cross-arch", "distill"} <= set(curves.TRANSFER_STRATEGIES)
    assert set(strategies.names()) <= set(curves.STYLE_ORDER)


@pytest.fixture
def probe():
    """A new strategy: the base's body frozen, its head kept, nothing else written for it."""
    strategy = strategies.register(strategies.Strategy(
        "frozen-probe", keep_head=True, setup=lambda net, options: freeze(net, "body")))
    yield strategy
    strategies.unregister("frozen-probe")


def test_a_registered_strategy_runs_with_no_other_change(probe, base_bundle, movie_slice):
    metrics = experiments.transfer(base=str(base_bundle), data=str(movie_slice), out=None,
                                strategy="frozen-probe", train_size=200, epochs=1,
                                scratch_check=True, verbose=False)
    assert metrics["strategy"] == "frozen-probe"
    assert metrics["layers"]["output.weight"] == "copied"  # keep_head: same labels
    assert metrics["frozen"] and all(n.startswith(("embedding.", "encoder."))
                                     for n in metrics["frozen"])
    assert "scratch_check" in metrics  # it uses the base, so it is compared with scratch
    with pytest.raises(ValueError, match="already registered"):
        strategies.register(probe)


def test_a_registered_strategy_reaches_the_script_curves_and_estimator(probe, base_bundle,
                                                                       movie_slice):
    assert transfer_parser().strategies("fine-tune,frozen-probe") == ("fine-tune",
                                                                      "frozen-probe")
    assert "frozen-probe" not in strategies.default_names()  # in_all=False
    table = pd.DataFrame({"strategy": ["scratch", "frozen-probe"], "n_train": [100, 100],
                          "accuracy": [0.7, 0.6]})
    assert curves.mark_negative_transfer(table)["negative_transfer"].tolist() == [False, True]
    assert "frozen-probe" in curves.style_order()
    texts = pd.read_csv(movie_slice).head(60)
    clf = GluonTextClassifier(init_from=str(base_bundle), strategy="frozen-probe",
                              epochs=1).fit(texts["text"], texts["label"])
    assert clf.transfer_report_["output.weight"] == "copied"


def test_prepare_target_is_the_one_recipe(base_bundle, movie_slice):
    bundle = load_bundle(base_bundle)
    texts = list(pd.read_csv(movie_slice)["text"].head(100)) + ["zzzunseen token"]
    tuned = strategies.prepare_target(bundle, "fine-tune", texts, bundle.labels, seed=0)
    assert tuned.layers["output.weight"] == "copied" and tuned.cross_arch is None
    assert tuned.vocabulary.new >= 1 and not tuned.setup["frozen"]
    probe = strategies.prepare_target(bundle, "feature-extract", texts, bundle.labels)
    assert probe.layers["output.weight"] == "new"
    assert any(note.startswith("output layer replaced") for note in probe.notes)
    fresh = strategies.prepare_target(bundle, "scratch", texts, bundle.labels)
    assert set(fresh.layers.values()) == {"new"} and fresh.vocabulary.copied == 0
    resized = strategies.prepare_target(bundle, "cross-arch", texts, bundle.labels,
                                        target_arch={"embed_dim": 8}, seed=0)
    assert resized.cross_arch and resized.net.config["embed_dim"] == 8
    gradual = strategies.prepare_target(bundle, "gradual", texts, bundle.labels)
    assert gradual.schedules()["lr_schedule"] is not None
    assert tuned.schedules() == {"epoch_start": None, "lr_schedule": None}


def test_the_steps_and_what_each_strategy_needs():
    steps = {name: s.step for name, s in strategies.REGISTRY.items()}
    assert steps["distill"] == "distill" and steps["dann"] == "align"
    assert steps["fine-tune"] == steps["cross-arch"] == "cross-entropy"
    assert [n for n, s in strategies.REGISTRY.items() if not s.needs_labels] == [
        "dann", "coral", "mmd"]
    with pytest.raises(ValueError, match="'distill' does not"):
        GluonTextClassifier(init_from="unused", strategy="distill").fit(
            ["good", "bad"] * 10, [1, 0] * 10)


def test_joint_trains_on_source_rows_plus_the_target_weighted_up(tmp_path):
    from conftest import toy_texts

    from transferlearn.experiments import train_base, transfer

    texts, labels = toy_texts(300)
    source = pd.DataFrame({"text": texts, "label": labels})
    base = tmp_path / "base"
    train_base(data=source, encoder="mean", embed_dim=8, hidden_size=8, epochs=2,
               out=str(base), verbose=False)
    target_texts, target_labels = toy_texts(200, seed=5)
    target = pd.DataFrame({"text": [t.replace("good", "spotless") for t in target_texts],
                           "label": target_labels})
    m = transfer(base=str(base), data=target, strategy="joint", train_size=40, epochs=2,
                 source_data=source, source_rows=120, target_share=0.5, out=None,
                 verbose=False)
    # 40 labels: epochs chosen by cross-validation, then a refit on all 40 rows, repeated 3x
    # beside the 120 source rows (half the training rows)
    assert m["joint"] == {"source_rows": 120, "target_rows": 40, "repeats": 3,
                          "target_share": 0.5}
    assert m["n_train"] == 40 and m["history"] and m["cv"]["table"][0]["candidate"] == "joint"
    other = pd.DataFrame({"text": texts, "label": ["a" if x else "b" for x in labels]})
    with pytest.raises(DataError, match="needs the same label set"):
        transfer(base=str(base), data=other, strategy="joint", train_size=40, epochs=1,
                 source_data=source, out=None, verbose=False)
    with pytest.raises(DataError, match="trained on a DataFrame.*--source-data"):
        transfer(base=str(base), data=target, strategy="joint", train_size=40, epochs=1,
                 out=None, verbose=False)
