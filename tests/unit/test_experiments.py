"""The end-to-end functions the scripts and notebooks call."""
import json

import pandas as pd
import pytest

from transferlearn import experiments
from transferlearn.bundle.store import load_bundle


def test_transfer_to_new_label_set_replaces_the_head(base_bundle, tmp_path, capsys):
    texts = ["great phone", "broken on arrival", "it is a phone", "love it", "awful",
             "arrived tuesday"] * 10
    labels = ["pos", "neg", "neutral"] * 20
    path = tmp_path / "three.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(path, index=False)
    m = experiments.transfer(base=str(base_bundle), data=str(path), out=str(tmp_path / "t"),
                          strategy="fine-tune", epochs=1)
    assert "output layer replaced (target labels ['neg', 'neutral', 'pos']" in \
        capsys.readouterr().out
    assert m["layers"]["output.weight"] == "new" and m["layers"]["encoder.proj.weight"] == \
        "copied"
    bundle = load_bundle(tmp_path / "t")
    assert bundle.labels == ["neg", "neutral", "pos"]
    assert set(bundle.predict(["great"])) <= {"neg", "neutral", "pos"}


def test_fine_tune_keeps_the_head_when_labels_match(base_bundle, amazon_slice, tmp_path):
    m = experiments.transfer(base=str(base_bundle), data=str(amazon_slice),
                          out=str(tmp_path / "t"), strategy="fine-tune", train_size=100,
                          epochs=1, verbose=False)
    assert m["layers"]["output.weight"] == "copied"
    assert m["n_train"] + m["n_val"] == 100
    assert m["vocabulary"]["source_size"] == len(load_bundle(base_bundle).vocab)


def test_unknown_baseline_is_refused(base_bundle, amazon_slice, tmp_path):
    import pytest

    with pytest.raises(ValueError, match=r"unknown baseline 'tfidf' \(did you mean "
                                         r"'tfidf-logreg'\?\)"):
        experiments.parse_baselines("tfidf")
    with pytest.raises(ValueError, match="unknown baseline 'svm'"):
        experiments.compare(base=str(base_bundle), data=str(amazon_slice), out=str(tmp_path),
                         strategies=(), baselines=("svm",), verbose=False)


def test_label_shift_after_a_strategy_adds_a_priors_row(base_bundle, amazon_slice):
    from transferlearn import experiments

    m = experiments.transfer(base=str(base_bundle), data=str(amazon_slice), out=None,
                          strategy="feature-extract", train_size=120, epochs=1,
                          label_shift=True, verbose=False)
    shift = m["label_shift"]
    assert set(shift) >= {"accuracy", "roc_auc", "train_priors", "target_priors"}
    assert sum(shift["target_priors"].values()) == pytest.approx(1.0, abs=1e-3)
    assert sum(shift["train_priors"].values()) == pytest.approx(1.0, abs=1e-3)
    rows = experiments.table_of_runs([m])
    assert list(rows["strategy"]) == ["feature-extract", "feature-extract+priors"]
    assert rows.loc[1, "accuracy"] == shift["accuracy"]


def test_the_zero_label_priors_row_comes_only_when_asked(base_bundle, amazon_slice):
    from transferlearn.bundle.store import load_bundle
    from transferlearn.data import load_dataset
    from transferlearn.experiments import zero_label_scores

    bundle = load_bundle(base_bundle)
    test_df = load_dataset(str(amazon_slice)).head(150)
    labels = sorted(test_df["label"].unique())
    assert list(zero_label_scores(bundle, test_df, labels)) == ["source-only"]
    shifted = zero_label_scores(bundle, test_df, labels, label_shift=True)
    assert list(shifted) == ["source-only", "source-only+priors"]
    assert sum(shifted["source-only+priors"]["priors"].values()) == pytest.approx(1.0, 1e-3)


def test_the_results_table_is_aligned_for_a_terminal_and_markdown_on_request():
    from transferlearn.experiments import format_table

    table = pd.DataFrame([
        {"strategy": "source-only", "n_train": 0, "accuracy": 0.61, "roc_auc": 0.7,
         "seconds": 0.0, "vs_scratch": float("nan"), "negative_transfer": False},
        {"strategy": "fine-tune", "n_train": 500, "accuracy": 0.71, "roc_auc": 0.77,
         "seconds": 12.3, "vs_scratch": -0.01, "negative_transfer": True},
        {"strategy": "auto", "n_train": 500, "accuracy": 0.7412, "roc_auc": 0.8,
         "seconds": 100.25, "vs_scratch": 0.02, "negative_transfer": False}])
    text = format_table(table, markdown=False).splitlines()
    assert text[0].split() == ["strategy", "n_train", "accuracy", "roc_auc", "seconds",
                               "vs_scratch"]
    assert set(text[1]) == {"-", " "}
    # every number ends in the same column as its header: right-aligned
    for name, value in (("accuracy", "0.7412"), ("seconds", "100.2"), ("n_train", "500")):
        assert text[4].index(value) + len(value) == text[0].index(name) + len(name)
    assert "-0.0100 !" in text[3] and text[-1].startswith("! negative transfer")
    assert len(max(text, key=len)) < 80
    markdown = format_table(table).splitlines()
    assert markdown[1] == "| --- | --- | --- | --- | --- | --- |"
    assert "| fine-tune | 500 | 0.7100 | 0.7700 | 12.3 | -0.0100 negative transfer |" in markdown


def test_runs_return_the_trained_model_and_out_none_keeps_it(base_bundle, movie_slice,
                                                             amazon_slice, tmp_path):
    import numpy as np

    from transferlearn.bundle.store import load_bundle
    from transferlearn.experiments import Result

    texts = ["a moving, beautiful film", "dull and far too long", "great value, works"]
    base = experiments.train_base(data=str(movie_slice), out=None, epochs=1, max_len=24,
                               embed_dim=16, verbose=False)
    assert isinstance(base, Result) and base.bundle.path is None
    assert 0 <= base["accuracy"] <= 1 and base.metrics["accuracy"] == base["accuracy"]
    assert set(base.predict(texts)) <= set(base.bundle.labels)
    saved = base.save(tmp_path / "base")
    np.testing.assert_allclose(load_bundle(saved).predict_proba(texts), base.predict_proba(texts),
                               rtol=1e-5)
    # a transfer from the in-memory base's saved copy, kept in memory too
    tuned = experiments.transfer(base=str(saved), data=str(amazon_slice), out=None,
                              strategy="fine-tune", train_size=100, epochs=1, verbose=False)
    assert tuned.bundle.path is None and tuned.predict_proba(texts).shape == (3, 2)
    assert "fine-tune" in repr(tuned) and json.dumps(tuned)  # still the metrics dict
    written = experiments.transfer(base=str(base_bundle), data=str(amazon_slice),
                                out=str(tmp_path / "t"), strategy="fine-tune", train_size=100,
                                epochs=1, verbose=False)
    assert written.bundle.path == tmp_path / "t"
    np.testing.assert_allclose(load_bundle(tmp_path / "t").predict_proba(texts),
                               written.predict_proba(texts), rtol=1e-5)
