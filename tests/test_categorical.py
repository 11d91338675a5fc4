"""Categorical side features: their own embeddings, transferred by category."""
import json

import numpy as np
import pandas as pd
import pytest
from conftest import run_script

from transferlearn.bundle.store import load_bundle
from transferlearn.data.readers import DataError, load_dataset, with_categories
from transferlearn.data.text import category_token


def _frame(n, devices, seed):
    rng = np.random.RandomState(seed)
    good = rng.rand(n) > 0.5
    words = np.where(good, "lovely clean friendly room", "dirty rude noisy room")
    return pd.DataFrame({"Description": words, "Device_Used": rng.choice(devices, n),
                         "Is_Response": np.where(good, "happy", "not happy")})


def test_category_tokens_go_in_front_of_the_text(tmp_path):
    path = tmp_path / "h.csv"
    _frame(20, ["Mobile", "Desktop"], 0).to_csv(path, index=False)
    df = load_dataset(path, categorical=["Device_Used"])
    assert df["text"].str.match(r"^xxcat_device_used_(mobile|desktop) ").all()
    assert df.attrs["categories"] == {"Device_Used": ["Desktop", "Mobile"]}
    assert category_token("Browser Used", "Internet Explorer") == \
        "xxcat_browser_used_internet_explorer"
    assert category_token("x", None) == "xxcat_x_missing"
    with pytest.raises(DataError, match=r"categorical columns \['Nope'\] not found"):
        load_dataset(path, categorical=["Nope"])
    with pytest.raises(DataError, match="have no categorical columns"):
        load_dataset("movie_snippets", categorical=["x"])
    assert with_categories(pd.DataFrame({"text": ["a"], "c": ["B"]}), ["c"]).tolist() == \
        ["xxcat_c_b a"]


def test_known_categories_keep_their_vectors_and_mapped_ones_borrow(tmp_path):
    source, target = tmp_path / "source.csv", tmp_path / "target.csv"
    _frame(300, ["Mobile", "Desktop"], 1).to_csv(source, index=False)
    _frame(200, ["Mobile", "Tablet", "Watch"], 2).to_csv(target, index=False)
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
