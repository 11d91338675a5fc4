"""Inputs that used to go silently wrong: a single string, an (n, 1) array, pd.NA."""
import numpy as np
import pandas as pd
import pytest

from transferlearn.data.pipeline import make_pipeline
from transferlearn.data.text import NullImputer


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
    assert NullImputer(fill_value="").fit_transform(texts).tolist() == ["fine", "", "", "", ""]
    assert NullImputer().fit_transform(pd.array(["ok", pd.NA], dtype="string")) == ["ok", ""]


def test_a_dataframe_is_accepted_as_data(base_bundle):
    from transferlearn import experiments
    from transferlearn.data import load_dataset

    df = load_dataset("amazon_snippets").sample(300, random_state=0)[["text", "label"]]
    m = experiments.transfer(base=str(base_bundle), data=df, out=None, train_size=100,
                             strategy="fine-tune", epochs=1, verbose=False)
    assert m["n_train"] + m["n_val"] == 100 and m["data"] == "<DataFrame of 300 rows>"


def test_the_blogs_pipeline_runs_as_the_blog_writes_it(tmp_path):
    """The tutorial this project reproduces ("Transfer Learning Using MXNet") builds its
    preprocessing with these names and arguments, saves it with joblib and transforms a
    Series; its split pattern is a *split* pattern (re.split), not a token pattern."""
    import joblib
    from sklearn.pipeline import Pipeline

    from transferlearn import LowerCaser, NullImputer, Tok2Idx, Tokenize

    split_pattern = r"[\s,.!?;:()]+"
    pipeline = Pipeline([("null_impute", NullImputer(strategy="constant", fill_value="null")),
                         ("lower_case", LowerCaser()), ("tokenize", Tokenize(split_pattern)),
                         ("token2index", Tok2Idx())])
    reviews = pd.Series(["Great hotel, friendly staff!", None, "Room was DIRTY."])
    pipeline.fit(reviews)
    joblib.dump(pipeline, tmp_path / "pipeline.joblib")
    loaded = joblib.load(tmp_path / "pipeline.joblib")
    # the blog's rule: each match set apart by spaces, then split on whitespace
    assert loaded[:3].transform(reviews).tolist() == [
        ["great", "hotel", ",", "friendly", "staff", "!"], ["null"], ["room", "was", "dirty", "."]]
    ids = loaded.transform(reviews)
    vocab = loaded.named_steps["token2index"].vocab_
    assert [vocab.idx_to_token[i] for i in ids[0]] == ["great", "hotel", ",", "friendly",
                                                        "staff", "!"]
    with pytest.raises(ValueError, match="strategy must be 'constant'"):
        NullImputer(strategy="mean").fit(reviews)


def test_a_split_pattern_travels_with_the_bundle(tmp_path):
    from transferlearn.data.pipeline import fitted_pipeline, pipeline_config, vocabulary_of

    pipe = make_pipeline(max_len=6, split_pattern=r"[|/]+").fit(["a|b/c", "b||d"])
    again = fitted_pipeline(pipeline_config(pipe), vocabulary_of(pipe))
    np.testing.assert_array_equal(again.transform(["d/a|x"]), pipe.transform(["d/a|x"]))
    assert pipe[:3].transform(["d/a|x"]) == [["d", "a", "x"]]
