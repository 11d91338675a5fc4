"""The n-gram bag encoder: the pipeline's n-gram step, naive-Bayes token weights, the network,
its transfer (shared n-grams keep their vectors and weights), the bundle and the runs."""
import json
import pickle

import mxnet as mx
import numpy as np
import pandas as pd
import pytest
from conftest import toy_texts

from transferlearn.config import ENCODER_NAMES
from transferlearn.data.pipeline import (
    fitted_pipeline,
    make_pipeline,
    pipeline_config,
    vocabulary_of,
)
from transferlearn.data.text import Ngrams, Vocabulary, ngram_positions
from transferlearn.errors import DataError
from transferlearn.model.encoders import ENCODERS
from transferlearn.model.network import (
    TextClassifier,
    log_count_ratio,
    named_parameters,
    set_token_scale,
)
from transferlearn.transfer.freezing import trainable, unfreeze
from transferlearn.transfer.weights import new_target_model, transfer_weights


def test_the_scripts_know_every_registered_encoder():
    assert ENCODER_NAMES == ENCODERS


def test_ngrams_follow_the_token_that_ends_them_and_fit_the_padded_width():
    tokens = [["not", "good", "at", "all"], ["fine"]]
    step = Ngrams(n=3, max_tokens=3).fit(tokens)
    out = step.transform(tokens)
    assert out[0] == ["not", "good", "not good", "at", "good at", "not good at"]
    assert out[1] == ["fine"]
    assert len(out[0]) == ngram_positions(3, 3) == 6
    assert Ngrams(n=2, max_tokens=2, truncation="pre").fit(tokens).transform(tokens)[0] == [
        "at", "all", "at all"]
    with pytest.raises(ValueError, match="ngrams must be 1 to 4"):
        Ngrams(n=5).fit(tokens)


def test_pipeline_with_ngrams_keeps_max_len_tokens_and_rebuilds_from_its_config():
    texts = ["a good film", "not a good film at all", "bad"]
    pipe = make_pipeline(max_len=4, ngrams=2).fit(texts)
    ids = pipe.transform(texts)
    assert ids.shape == (3, 7)  # 4 tokens + 3 bigrams
    vocab = vocabulary_of(pipe)
    assert "good film" in vocab and "film at" not in vocab  # "at" is the 5th token: cut
    assert ids[2].tolist() == [vocab.token_to_idx["bad"]] + [0] * 6
    config = pipeline_config(pipe)
    assert config["max_len"] == 4 and config["ngrams"] == 2
    rebuilt = fitted_pipeline(json.loads(json.dumps(config)), vocab)
    np.testing.assert_array_equal(rebuilt.transform(texts), ids)
    assert "ngrams" not in pipeline_config(make_pipeline(max_len=4).fit(texts))


def test_log_count_ratio_is_nbsvms_ratio_of_binary_counts():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 12, size=(40, 6)).astype(np.int32)
    y = rng.randint(0, 2, size=40)
    scale = log_count_ratio(X, y, 12, 2)
    for token in range(2, 12):
        present = (X == token).any(axis=1)
        p = 1 + present[y == 0].sum()
        q = 1 + present[y == 1].sum()
        p_all = 12 + sum((X[y == 0] == t).any(axis=1).sum() for t in range(1, 12))
        q_all = 12 + sum((X[y == 1] == t).any(axis=1).sum() for t in range(1, 12))
        assert scale[token] == pytest.approx(abs(np.log((p / p_all) / (q / q_all))), rel=1e-5)
    assert scale[0] == 0.0 and scale[1] == 1.0
    # three classes: the mean of the one-vs-rest ratios, and a class-free token weighs 0
    X3 = np.array([[2, 5], [3, 5], [4, 5]] * 4, dtype=np.int32)
    scale3 = log_count_ratio(X3, np.array([0, 1, 2] * 4), 6, 3)
    assert scale3[5] == pytest.approx(0.0, abs=1e-6)
    assert scale3[2] == pytest.approx(scale3[3]) and scale3[3] == pytest.approx(scale3[4])
    assert scale3[2] > 0.5


def _ngram_net(vocab_size=20, nb_scale=True, seed=0):
    mx.random.seed(seed)
    net = TextClassifier(vocab_size, 2, embed_dim=5, encoder="ngram", nb_scale=nb_scale)
    net.initialize(mx.init.Xavier())
    return net


def test_the_ngram_network_averages_scaled_vectors_and_ignores_padding():
    net = _ngram_net()
    scale = np.linspace(0.5, 2.0, 20).astype(np.float32)
    set_token_scale(net, scale)
    x = mx.nd.array([[3, 4, 7, 0, 0]], dtype="int32")
    stages = net.stages(mx.nd, x)
    weight = named_parameters(net)["embedding.weight"].data().asnumpy()
    expected = (weight[[3, 4, 7]] * scale[[3, 4, 7], None]).mean(axis=0)
    np.testing.assert_allclose(stages["pooling"].asnumpy()[0], expected, rtol=1e-5)
    assert stages["encoder"].shape == (1, 5, 5)
    eager = net(x).asnumpy()
    net.hybridize(static_alloc=True, static_shape=True)
    np.testing.assert_allclose(net(x).asnumpy(), eager, rtol=1e-5)
    np.testing.assert_allclose(net(mx.nd.array([[3, 4, 7]], dtype="int32")).asnumpy(), eager,
                               rtol=1e-5)


def test_a_bag_scores_and_trains_as_a_sparse_product_of_its_table(monkeypatch):
    from transferlearn.model.inference import predict_logits
    from transferlearn.model.network import bag_weights, is_bag
    from transferlearn.training.fit import fit
    from transferlearn.training.steps import BagCrossEntropy

    texts, y = toy_texts(300, 1)
    pipe = make_pipeline(max_len=6, ngrams=2)
    X = pipe.fit_transform(texts)
    net = _ngram_net(vocab_size=len(vocabulary_of(pipe)))
    set_token_scale(net, log_count_ratio(X, y, net.config["vocab_size"], 2))
    assert is_bag(net) and not is_bag(TextClassifier(20, 2, encoder="mean"))
    weights = bag_weights(net, X)  # (rows, vocabulary): scale over the row's positions
    assert weights.shape == (len(X), net.config["vocab_size"])
    np.testing.assert_allclose(weights.sum(axis=1).A1[:5], [
        net.embedding.scale.data().asnumpy().ravel()[row[row > 0]].mean() for row in X[:5]],
        rtol=1e-5)
    dense = net(mx.nd.array(X, dtype="int32")).asnumpy()  # the network's own forward
    np.testing.assert_allclose(predict_logits(net, X), dense, rtol=1e-4, atol=1e-5)
    steps = []
    original = BagCrossEntropy.losses

    def spy(self, loop, rows):
        steps.append(type(self))
        return original(self, loop, rows)

    monkeypatch.setattr(BagCrossEntropy, "losses", spy)
    fit(net, X[:240], y[:240], X[240:], y[240:], num_epochs=5, batch_size=32, lr=0.02,
        verbose=False)
    assert steps and set(steps) == {BagCrossEntropy}
    assert (predict_logits(net, X[240:]).argmax(axis=1) == y[240:]).mean() > 0.9


def test_mxnet_sums_repeated_ids_of_a_sparse_row_forward_and_backward():
    """bag_weights leaves a repeated id repeated (no sort): MXNet's product and its
    row-sparse gradient must sum repeats as scipy's merged matrix does."""
    from mxnet import autograd
    from scipy import sparse

    rng = np.random.RandomState(0)
    X = rng.randint(1, 50, size=(8, 12))
    X[:, 9:] = 0
    keep = X != 0
    values = rng.rand(int(keep.sum())).astype(np.float32)
    indptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))])
    repeated = sparse.csr_matrix((values, X[keep], indptr), shape=(8, 60))
    merged = repeated.copy()
    merged.sum_duplicates()
    assert merged.nnz < repeated.nnz
    table, upstream = rng.rand(60, 5).astype(np.float32), rng.rand(8, 5).astype(np.float32)

    def forward_backward(m):
        w = mx.nd.array(table)
        w.attach_grad(stype="row_sparse")
        x = mx.nd.sparse.csr_matrix((m.data, m.indices, m.indptr), shape=m.shape)
        with autograd.record():
            y = mx.nd.sparse.dot(x, w)
        y.backward(mx.nd.array(upstream))
        return y.asnumpy(), w.grad.tostype("default").asnumpy()

    for a, b in zip(forward_backward(repeated), forward_backward(merged), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_token_weights_are_data_that_never_train():
    net = _ngram_net()
    unfreeze(net, ".")
    assert "embedding.scale" not in trainable(net)
    assert "embedding.weight" in trainable(net)


def test_shared_ngrams_keep_their_vectors_and_weights_in_a_transfer():
    source_vocab = Vocabulary(["<pad>", "<unk>", "good", "film", "good film", "bad"])
    target_vocab = Vocabulary(["<pad>", "<unk>", "good", "good film", "hotel", "good hotel"])
    source = _ngram_net(len(source_vocab))
    set_token_scale(source, [0, 1, 0.4, 0.1, 2.5, 1.5])
    target = new_target_model(source, len(target_vocab), 2)
    report = transfer_weights(source, target, source_vocab, target_vocab, ["n", "p"],
                              ["n", "p"])
    assert report["embedding.weight"] == report["embedding.scale"] == "mapped"
    src, dst = named_parameters(source), named_parameters(target)
    np.testing.assert_array_equal(dst["embedding.weight"].data().asnumpy()[3],
                                  src["embedding.weight"].data().asnumpy()[4])  # "good film"
    scale = dst["embedding.scale"].data().asnumpy()[:, 0]
    np.testing.assert_allclose(scale[:4], [0, 1, 0.4, 2.5])
    np.testing.assert_allclose(scale[4:], [np.mean([0.4, 0.1, 2.5, 1.5])] * 2)  # new: mean


def test_ngram_base_run_saves_a_bundle_that_loads_and_predicts(tmp_path):
    from transferlearn.bundle.store import load_bundle
    from transferlearn.experiments import train_base

    texts, labels = toy_texts(300)
    df = pd.DataFrame({"text": texts, "label": labels})
    out = tmp_path / "ngram"
    metrics = train_base(data=df, encoder="ngram", embed_dim=8, epochs=10, lr=0.01,
                         out=str(out), verbose=False)
    assert metrics["accuracy"] > 0.9
    bundle = load_bundle(out)
    assert bundle.config["preprocessing"]["ngrams"] == 2
    assert bundle.config["model"]["nb_scale"] is True
    ids = bundle.pipeline.transform(["great film", "awful film"])
    scale = named_parameters(bundle.net)["embedding.scale"].data().asnumpy()[:, 0]
    vocab = bundle.vocab
    assert scale[vocab.token_to_idx["great"]] > 1.0 > scale[vocab.token_to_idx["the"]]
    assert ids.shape[1] == ngram_positions(64, 2)
    assert list(bundle.predict(["it is great", "it is awful"])) == ["1", "0"]


def test_a_sequence_encoder_refuses_ngrams():
    from transferlearn.experiments import train_base

    texts, labels = toy_texts(40)
    with pytest.raises(DataError, match="--ngrams 2 needs a bag encoder"):
        train_base(data=pd.DataFrame({"text": texts, "label": labels}), encoder="cnn",
                   ngrams=2, out=None, verbose=False)


def test_scratch_on_an_ngram_base_takes_the_targets_own_weights(tmp_path):
    from transferlearn.experiments import train_base, transfer

    texts, labels = toy_texts(300)
    base = tmp_path / "base"
    train_base(data=pd.DataFrame({"text": texts, "label": labels}), encoder="ngram",
               embed_dim=8, epochs=10, lr=0.01, out=str(base), verbose=False)
    target_texts, target_labels = toy_texts(200, seed=3)
    target_texts = [t.replace("great", "superb") for t in target_texts]
    target = pd.DataFrame({"text": target_texts, "label": target_labels})
    for strategy in ("scratch", "fine-tune"):
        metrics = transfer(base=str(base), data=target, strategy=strategy, epochs=10, lr=0.01,
                           out=str(tmp_path / strategy), verbose=False)
        assert metrics["accuracy"] > 0.8, strategy
    from transferlearn.bundle.store import load_bundle

    for strategy, expect_superb in (("scratch", "above"), ("fine-tune", "mean")):
        bundle = load_bundle(tmp_path / strategy)
        scale = named_parameters(bundle.net)["embedding.scale"].data().asnumpy()[:, 0]
        superb = scale[bundle.vocab.token_to_idx["superb"]]
        if expect_superb == "above":  # the target's own NB ratio: a class word weighs > 1
            assert superb > 1.0
        else:  # new to the base: the mean of the base's weights
            source = load_bundle(base)
            mean = named_parameters(source.net)["embedding.scale"].data().asnumpy()[2:].mean()
            assert superb == pytest.approx(mean, rel=1e-5)


def test_the_estimator_takes_the_ngram_encoder_and_pickles():
    from transferlearn.sklearn import GluonTextClassifier

    texts, labels = toy_texts(200)
    est = GluonTextClassifier(encoder="ngram", embed_dim=8, epochs=10, lr=0.01).fit(texts,
                                                                                   labels)
    assert est.pipeline_.named_steps["ngrams"].n == 2
    assert (est.predict(texts) == labels).mean() > 0.9
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict_proba(texts[:5]), est.predict_proba(texts[:5]),
                               rtol=1e-5)


def test_a_bundle_with_too_high_an_ngram_order_is_refused():
    from transferlearn.bundle.schema import SchemaError, check_preprocessing

    check_preprocessing({"max_len": 8, "ngrams": 3})
    with pytest.raises(SchemaError, match="ngrams must be an integer in"):
        check_preprocessing({"max_len": 8, "ngrams": 9})


def test_an_ngram_base_refuses_a_sequence_encoder_target(tmp_path):
    from transferlearn.experiments import train_base, transfer

    texts, labels = toy_texts(120)
    df = pd.DataFrame({"text": texts, "label": labels})
    train_base(data=df, encoder="ngram", embed_dim=8, epochs=1, out=str(tmp_path / "b"),
               verbose=False)
    with pytest.raises(DataError, match="a cnn target reads tokens in order"):
        transfer(base=str(tmp_path / "b"), data=df, strategy="cross-arch",
                 target_arch={"encoder": "cnn"}, epochs=1, out=None, verbose=False)
