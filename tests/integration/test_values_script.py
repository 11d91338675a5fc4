"""Values from the scripts: labels written two ways are named in a warning, and metrics are
strict JSON (null for an undefined AUC)."""
from __future__ import annotations

import json

from conftest import TINY, device_reviews, run_script

from transferlearn.data.readers import label_variants


def test_labels_written_two_ways_are_named_in_a_warning(tmp_path):
    assert label_variants(["1", "1.0", "0", "POS", "pos", "neg", " Neg"]) == [
        [" Neg", "neg"], ["1", "1.0"], ["POS", "pos"]]
    assert label_variants(["pos", "neg", "10", "1"]) == []
    path = tmp_path / "d.csv"
    device_reviews(120, ("1", "1.0", "0")).to_csv(path, index=False)
    result = run_script("train_base.py", "--data", path, "--out", tmp_path / "o", *TINY)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "labels '1', '1.0' differ only by case or number format" \
        in warnings[0]


def test_metrics_are_strict_json_with_null_for_an_undefined_auc(tmp_path):
    frame = device_reviews(120)
    frame["split"] = "train"
    frame.loc[frame.index[-20:], "split"] = "test"
    frame.loc[frame["split"] == "test", "label"] = "pos"  # a one-class test split
    frame.loc[frame.index[-20:], "text"] = "the film good"
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    result = run_script("train_base.py", "--data", path, "--out", tmp_path / "o", *TINY)
    assert result.returncode == 0, result.stderr

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text(), parse_constant=refuse)
    assert metrics["roc_auc"] is None and metrics["n_test"] == 20
