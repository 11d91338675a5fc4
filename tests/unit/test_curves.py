"""Learning curves, negative-transfer flags and the proxy A-distance."""
import numpy as np
import pandas as pd
import pytest
from conftest import synthetic_curve

from transferlearn import experiments
from transferlearn.experiments.curves import (
    curve_table,
    mark_negative_transfer,
    negative_transfer_warnings,
    plot_curve,
    summarise,
)
from transferlearn.experiments.embeddings import proxy_a_distance


def test_negative_transfer_is_flagged_only_where_transfer_loses_to_scratch():
    stats = mark_negative_transfer(summarise(synthetic_curve()))
    flagged = stats[stats.negative_transfer]
    assert flagged[["strategy", "n_train"]].values.tolist() == [["fine-tune", 1000]]
    tuned = stats[stats.strategy == "fine-tune"].set_index("n_train")["vs_scratch"]
    assert tuned.loc[100] == pytest.approx(0.10) and tuned.loc[1000] == pytest.approx(-0.05)
    assert stats.loc[stats.strategy == "tfidf-logreg", "vs_scratch"].isna().all()
    (warning,) = negative_transfer_warnings(stats)
    assert warning.startswith("warning: negative transfer: fine-tune scored 0.7600, below "
                              "scratch (0.8100) with 1000 labelled target rows")
    table = curve_table(synthetic_curve())
    assert "| fine-tune |  | 0.710 ± 0.010 | 0.760 ± 0.010 ! |" in table
    assert mark_negative_transfer(summarise(synthetic_curve()), tolerance=0.06)[
        "negative_transfer"].sum() == 0


def test_plot_curve_writes_a_png(tmp_path):
    path = plot_curve(synthetic_curve(), tmp_path / "curve.png")
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_proxy_a_distance_tracks_how_separable_the_domains_are():
    rng = np.random.RandomState(0)
    same = proxy_a_distance(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)))
    shifted = proxy_a_distance(rng.normal(size=(300, 8)), rng.normal(0.5, 1, size=(300, 8)))
    apart = proxy_a_distance(rng.normal(size=(300, 8)), rng.normal(5, 1, size=(300, 8)))
    assert same < 0.3 < shifted < apart and apart > 1.9


def test_learning_curve_end_to_end(base_bundle, amazon_slice, tmp_path):
    curve = experiments.learning_curve(
        base=str(base_bundle), data=str(amazon_slice), out=str(tmp_path / "curve"),
        sizes=[60, 120, 5000], repeats=2, strategies=("scratch", "fine-tune", "prior"),
        baselines=("tfidf-logreg",), plot=True, epochs=1, verbose=False)
    # per seed: source-only (the base as is; its EM-priors row only with label_shift), then
    # 4 rows at each of 2 sizes (5000 > the 480 training rows)
    assert len(curve) == 2 * (1 + 2 * 4)
    assert (curve.strategy == "source-only").sum() == 2
    assert not curve.strategy.str.endswith("+priors").any()
    assert set(curve.n_train) == {0, 60, 120} and set(curve.seed) == {0, 1}
    saved = pd.read_csv(tmp_path / "curve" / "curve.csv").fillna({"picked": ""})
    assert list(saved.columns) == ["strategy", "n_train", "seed", "accuracy", "roc_auc",
                                   "seconds", "picked"]
    pd.testing.assert_frame_equal(saved, curve, check_dtype=False)
    # what the strategy chosen by cross-validation chose, and nothing for the others
    assert saved[saved.strategy == "prior"].picked.str.match(
        r"prior \(fine-tune at weight (0|1)\.\d\)").all()
    assert (saved[saved.strategy != "prior"].picked == "").all()
    assert (tmp_path / "curve" / "curve.png").stat().st_size > 20_000
    assert "| scratch |" in (tmp_path / "curve" / "curve.md").read_text()
