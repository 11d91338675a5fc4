"""TextPipeline (data/pipeline.py, data/indexing.py): the chunked integer path gives what the
steps give one by one, for every layout it takes on and the ones it hands back to the steps."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

from transferlearn.data import indexing
from transferlearn.data.pipeline import make_pipeline, vocabulary_of
from transferlearn.data.vocab import Vocabulary

WORDS = ["good", "bad", "not", "movie", "the", "a", "film", "!", "great", "<pad>", "x y"]
texts = st.lists(st.one_of(st.none(), st.lists(st.sampled_from(WORDS), max_size=12).map(
    " ".join)), max_size=25)


def by_steps(pipe, fit, transform):
    """The same pipeline as a plain sklearn Pipeline: every step on every text, in turn."""
    plain = Pipeline(pipe.steps)
    return plain.fit_transform(fit), plain.transform(transform), vocabulary_of(plain)


@settings(max_examples=60, deadline=None)
@given(fit=texts, other=texts, max_len=st.integers(1, 8), min_freq=st.integers(1, 3),
       ngrams=st.sampled_from([1, 2]), truncation=st.sampled_from(["post", "pre"]),
       max_size=st.sampled_from([None, 6]))
def test_same_ids_and_vocabulary_as_the_steps(fit, other, max_len, min_freq, ngrams,
                                              truncation, max_size):
    options = dict(max_len=max_len, min_freq=min_freq, ngrams=ngrams, truncation=truncation,
                   max_size=max_size)
    fast = make_pipeline(**options)
    X_fit, X_other = fast.fit_transform(fit), fast.transform(other)
    want_fit, want_other, want_vocab = by_steps(make_pipeline(**options), fit, other)
    assert vocabulary_of(fast) == want_vocab
    np.testing.assert_array_equal(X_fit, want_fit)
    np.testing.assert_array_equal(X_other, want_other)
    assert X_fit.dtype == want_fit.dtype == np.int32


def test_chunks_and_a_base_vocabulary(monkeypatch):
    monkeypatch.setattr(indexing, "CHUNK", 3)  # many chunks on a few texts
    base = Vocabulary(["<pad>", "<unk>", "dull", "not good", "good"])  # "not" only in a bigram
    fit = ["not good at all", "good good film", "dull", "", "not good"] * 2
    options = dict(max_len=5, min_freq=2, ngrams=2, base_vocabulary=base)
    fast = make_pipeline(**options)
    got = fast.fit_transform(fit), fast.transform(["not good", "a not good film"])
    plain = Pipeline(make_pipeline(**options).steps)
    want = plain.fit_transform(fit), plain.transform(["not good", "a not good film"])
    assert vocabulary_of(fast) == vocabulary_of(plain)
    assert vocabulary_of(fast).idx_to_token[:5] == base.idx_to_token
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert 3 in got[1][1]  # "not good" after an unknown word keeps the base's bigram id


def test_layouts_it_does_not_cover_run_the_steps():
    split = make_pipeline(max_len=4, ngrams=2, split_pattern=r",")  # tokens with spaces
    X = split.fit_transform(["a b,c", "a b,c d"])
    plain = Pipeline(make_pipeline(max_len=4, ngrams=2, split_pattern=r",").steps)
    np.testing.assert_array_equal(X, plain.fit_transform(["a b,c", "a b,c d"]))
    tri = make_pipeline(max_len=4, ngrams=3)
    assert tri._layout() is None  # trigrams: the steps
    pandas_out = make_pipeline(max_len=4).set_output(transform="pandas")
    assert pandas_out._layout() is None


def test_pickle_leaves_the_integer_table_behind():
    import pickle

    pipe = make_pipeline(max_len=4, ngrams=2)
    pipe.fit(["not good", "good"])
    pipe.transform(["not good"])
    vocab = vocabulary_of(pipe)
    assert "_table" in vocab.__dict__
    again = pickle.loads(pickle.dumps(pipe))
    assert "_table" not in vocabulary_of(again).__dict__
    np.testing.assert_array_equal(again.transform(["not good"]), pipe.transform(["not good"]))


@pytest.mark.parametrize("ngrams", [1, 2])
def test_empty_input(ngrams):
    pipe = make_pipeline(max_len=3, ngrams=ngrams)
    assert pipe.fit_transform([]).shape == (0, 3 if ngrams == 1 else 5)
    assert pipe.transform([]).shape == (0, 3 if ngrams == 1 else 5)
