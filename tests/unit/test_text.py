import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from transferlearn.data.pipeline import (
    fitted_pipeline,
    make_pipeline,
    pipeline_config,
    vocabulary_of,
)
from transferlearn.data.text import (
    LowerCaser,
    NullImputer,
    Padder,
    TokenIndexer,
    Tokenizer,
    Vocabulary,
)

TRANSFORMERS = [NullImputer(fill_value="?"), LowerCaser(), Tokenizer(strip_html=False),
                TokenIndexer(min_freq=2, max_size=50), Padder(max_len=7, truncation="pre")]


@pytest.mark.parametrize("step", TRANSFORMERS, ids=lambda s: type(s).__name__)
def test_sklearn_contract(step):
    params = step.get_params()
    copy = clone(step)
    assert copy.get_params() == params and copy is not step
    with pytest.raises(NotFittedError):
        step.__class__(**params).transform([["a"]] if isinstance(step, TokenIndexer) else ["a"])


def test_steps_one_by_one():
    texts = ["Hello, WORLD! It's <br />great.", None]
    imputed = NullImputer().fit_transform(texts)
    assert imputed == ["Hello, WORLD! It's <br />great.", ""]
    lowered = LowerCaser().fit_transform(imputed)
    tokens = Tokenizer().fit_transform(lowered)
    assert tokens[0] == ["hello", ",", "world", "!", "it's", "great", "."]
    assert tokens[1] == []


def test_indexer_min_freq_max_size_and_unknowns():
    docs = [["a", "a", "b"], ["a", "c", "c"]]
    indexer = TokenIndexer(min_freq=2).fit(docs)
    assert indexer.vocab_.idx_to_token == ["<pad>", "<unk>", "a", "c"]
    assert indexer.transform([["c", "zzz"]]) == [[3, 1]]
    assert len(TokenIndexer(max_size=3).fit(docs).vocab_) == 3


def test_padder_truncation_sides():
    ids = [[1, 2, 3, 4], [5]]
    assert Padder(max_len=2).fit_transform(ids).tolist() == [[1, 2], [5, 0]]
    assert Padder(max_len=2, truncation="pre").fit_transform(ids).tolist() == [[3, 4], [5, 0]]
    out = Padder(max_len=3).fit_transform(ids)
    assert out.dtype == np.int32 and out.shape == (2, 3)


def test_pipeline_joblib_round_trip(tmp_path):
    texts = ["good film", "bad film", "really good"]
    pipe = make_pipeline(max_len=5).fit(texts)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    loaded = joblib.load(tmp_path / "pipe.joblib")
    np.testing.assert_array_equal(loaded.transform(texts + ["unseen"]),
                                  pipe.transform(texts + ["unseen"]))
    clone(pipe).fit(texts)


def test_pipeline_rebuilt_from_config_matches():
    texts = ["Good film!", "bad FILM", "it's fine"]
    pipe = make_pipeline(max_len=4, truncation="pre").fit(texts)
    rebuilt = fitted_pipeline(pipeline_config(pipe), vocabulary_of(pipe))
    np.testing.assert_array_equal(rebuilt.transform(texts), pipe.transform(texts))


def test_vocabulary_extension_keeps_base_order():
    base = Vocabulary(["<pad>", "<unk>", "good", "film"])
    indexer = TokenIndexer(base_vocabulary=base).fit([["film", "hotel", "room", "room"]])
    assert indexer.vocab_.idx_to_token == ["<pad>", "<unk>", "good", "film", "room", "hotel"]


@pytest.mark.parametrize("step", [NullImputer(), LowerCaser(), Tokenizer(), TokenIndexer(),
                                  Padder()])
def test_the_text_steps_pass_sklearns_checks_that_apply_to_text(step):
    """They declare string input (tags; sklearn's check_estimator then skips its numeric-array
    checks, which do not apply to texts), and the checks of the estimator contract that do
    apply run here and pass: nothing set in __init__, get/set_params, defaults; clone."""
    from sklearn.base import clone
    from sklearn.utils.estimator_checks import (
        check_get_params_invariance,
        check_no_attributes_set_in_init,
        check_parameters_default_constructible,
        check_set_params,
    )

    tags = step.__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    name = type(step).__name__
    for check in (check_no_attributes_set_in_init, check_get_params_invariance,
                  check_set_params, check_parameters_default_constructible):
        check(name, step)
    assert repr(clone(step)) == repr(step)


def test_set_output_pandas_gives_named_columns_with_the_same_values():
    import pandas as pd

    texts = pd.Series(["Good film!", "bad FILM, really", None])
    plain = make_pipeline(max_len=3, ngrams=2).fit_transform(texts)
    pipe = make_pipeline(max_len=3, ngrams=2).set_output(transform="pandas")
    frame = pipe.fit_transform(texts)
    assert list(frame.columns) == [f"id_{i}" for i in range(5)]
    np.testing.assert_array_equal(frame.to_numpy(), plain)
    np.testing.assert_array_equal(pipe.transform(texts).to_numpy(), plain)
    lowered = LowerCaser().set_output(transform="pandas").fit_transform(texts.fillna(""))
    assert list(lowered.columns) == ["text"] and lowered["text"].tolist()[1] == "bad film, really"
    tokens = Tokenizer().set_output(transform="pandas").fit_transform(["A b"])
    assert tokens["tokens"].tolist() == [["A", "b"]]
