"""Property-based tests (hypothesis): the text pipeline never crashes on arbitrary Unicode and
always yields fixed-shape valid indices; vocabulary transfer copies exactly the shared rows."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transferlearn.data.pipeline import make_pipeline
from transferlearn.data.text import PAD, UNK, Vocabulary
from transferlearn.transfer.vocabulary import map_embeddings, target_vocabulary

texts = st.lists(st.one_of(st.none(), st.text(max_size=200)), min_size=1, max_size=30)
tokens = st.text(min_size=1, max_size=8).filter(lambda t: t not in (PAD, UNK))

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(train=texts, test=texts, max_len=st.integers(1, 40),
       truncation=st.sampled_from(["post", "pre"]))
def test_pipeline_gives_fixed_shape_valid_indices(train, test, max_len, truncation):
    pipe = make_pipeline(max_len=max_len, truncation=truncation)
    X_train = pipe.fit_transform(train)
    X_test = pipe.transform(test)
    size = len(pipe.named_steps["index"].vocab_)
    for X, n in ((X_train, len(train)), (X_test, len(test))):
        assert X.shape == (n, max_len) and np.issubdtype(X.dtype, np.integer)
        assert X.min() >= 0 and X.max() < size


@SETTINGS
@given(source=st.lists(tokens, unique=True, max_size=40),
       target=st.lists(st.lists(tokens, max_size=10), max_size=20),
       dim=st.integers(1, 6), mode=st.sampled_from(["extend", "target"]),
       seed=st.integers(0, 2**16))
def test_vocabulary_transfer_copies_exactly_the_shared_rows(source, target, dim, mode, seed):
    src_vocab = Vocabulary(source)
    rng = np.random.RandomState(seed)
    weight = rng.normal(size=(len(src_vocab), dim)).astype(np.float32)
    tgt_vocab = target_vocabulary(src_vocab, target, mode)
    mapped, copied = map_embeddings(weight, src_vocab, tgt_vocab)
    assert mapped.shape == (len(tgt_vocab), dim)
    shared = [t for t in tgt_vocab.idx_to_token[2:] if t in src_vocab]
    assert copied == len(shared)
    mean = (weight[2:] if len(weight) > 2 else weight).mean(axis=0)
    for i, token in enumerate(tgt_vocab.idx_to_token):
        if token in src_vocab:
            np.testing.assert_array_equal(mapped[i], weight[src_vocab.token_to_idx[token]])
        else:
            np.testing.assert_allclose(mapped[i], mean, rtol=1e-6, atol=1e-6)
    if mode == "extend":  # every source token keeps its index
        assert tgt_vocab.idx_to_token[:len(src_vocab)] == src_vocab.idx_to_token
