"""Categorical side features from the script: known categories keep their vectors, mapped
ones borrow, and one strategy at a time."""
import json

import numpy as np
from conftest import hotel_frame, run_script

from transferlearn.bundle.store import load_bundle


def test_known_categories_keep_their_vectors_and_mapped_ones_borrow(tmp_path):
    source, target = tmp_path / "source.csv", tmp_path / "target.csv"
    hotel_frame(300, ["Mobile", "Desktop"], 1).to_csv(source, index=False)
    hotel_frame(200, ["Mobile", "Tablet", "Watch"], 2).to_csv(target, index=False)
    small = ["--encoder", "mean", "--embed-dim", "8", "--hidden-size", "8", "--epochs", "2",
             "--max-len", "12"]
    result = run_script("train_base.py", "--data", source, "--categorical", "Device_Used",
                        "--out", tmp_path / "base", *small)
    assert result.returncode == 0, result.stderr
    assert "categorical Device_Used: 2 values" in result.stdout
    result = run_script("transfer.py", "--base", tmp_path / "base", "--data", target,
                        "--categorical", "Device_Used", "--category-map",
                        '{"Device_Used": {"Tablet": "Mobile"}}', "--strategy", "fine-tune",
                        "--epochs", "1", "--no-scratch-check", "--out", tmp_path / "t")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "t" / "metrics.json").read_text())["categories"]
    assert report == {"Device_Used": {"Mobile": "copied", "Tablet": "from Mobile",
                                      "Watch": "new (mean)"}}
    base, tuned = load_bundle(tmp_path / "base"), load_bundle(tmp_path / "t")
    # before training, Tablet started at Mobile's base vector: check the mapping itself
    from transferlearn.transfer.vocabulary import category_aliases, map_embeddings

    weight, _ = map_embeddings(base.net.embedding.weight.data().asnumpy(), base.vocab,
                               tuned.vocab, category_aliases({"Device_Used":
                                                              {"Tablet": "Mobile"}}))
    mobile = base.vocab.token_to_idx["xxcat_device_used_mobile"]
    tablet = tuned.vocab.token_to_idx["xxcat_device_used_tablet"]
    np.testing.assert_array_equal(weight[tablet], base.net.embedding.weight.data().asnumpy()[
        mobile])


def test_categorical_with_several_strategies_is_refused(base_bundle, amazon_slice, tmp_path):
    result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--categorical", "x", "--strategy", "all", "--out", tmp_path / "x")
    assert result.returncode == 2 and "apply to a single strategy" in result.stderr
