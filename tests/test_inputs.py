"""Inputs that used to go silently wrong: a single string, an (n, 1) array, pd.NA."""
import numpy as np
import pandas as pd
import pytest

from transferlearn.data.text import NullImputer, make_pipeline


def test_a_single_string_is_refused_not_split_into_characters(base_bundle):
    from transferlearn import load_bundle
    from transferlearn.sklearn import LayerEmbedder

    bundle = load_bundle(base_bundle)
    with pytest.raises(ValueError, match="got a single string"):
        bundle.predict("works great")
    with pytest.raises(ValueError, match="got a single string"):
        LayerEmbedder(str(base_bundle)).fit(["a"]).transform("great fun")
    assert len(bundle.predict(["works great"])) == 1
    assert LayerEmbedder(str(base_bundle)).fit(["a"]).transform(["great fun"]).shape[0] == 1


def test_an_n_by_1_array_is_one_text_per_row():
    pipe = make_pipeline(max_len=4).fit(["works great", "broken"])
    column = np.array([["works great"], ["broken"]], dtype=object)
    np.testing.assert_array_equal(pipe.transform(column),
                                  pipe.transform(["works great", "broken"]))
    with pytest.raises(ValueError, match="one text per row"):
        pipe.transform(np.array([["a", "b"]], dtype=object))


def test_pd_na_and_other_missing_values_become_the_fill_value():
    texts = pd.Series(["fine", pd.NA, None, float("nan"), pd.NaT], dtype=object)
    assert NullImputer(fill_value="").fit_transform(texts) == ["fine", "", "", "", ""]
    assert NullImputer().fit_transform(pd.array(["ok", pd.NA], dtype="string")) == ["ok", ""]


def test_a_dataframe_is_accepted_as_data(base_bundle):
    from transferlearn import experiments
    from transferlearn.data import load_dataset

    df = load_dataset("amazon_snippets").sample(300, random_state=0)[["text", "label"]]
    m = experiments.transfer(base=str(base_bundle), data=df, out=None, train_size=100,
                             strategy="fine-tune", epochs=1, verbose=False)
    assert m["n_train"] + m["n_val"] == 100 and m["data"] == "<DataFrame of 300 rows>"
