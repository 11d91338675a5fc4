import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from transferlearn.data.text import (
    LowerCaser,
    NullImputer,
    Padder,
    TokenIndexer,
    Tokenizer,
    Vocabulary,
    fitted_pipeline,
    make_pipeline,
    pipeline_config,
    vocabulary_of,
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
