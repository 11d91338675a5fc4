import mxnet as mx
import numpy as np
from conftest import toy_texts

from transferlearn.data.pipeline import make_pipeline
from transferlearn.model.inference import predict_proba
from transferlearn.model.network import TextClassifier
from transferlearn.training import clone_state, fit
from transferlearn.training.metrics import evaluate
from transferlearn.transfer.freezing import freeze


def _toy(seed=0):
    texts, y = toy_texts(300, seed)
    pipe = make_pipeline(max_len=8)
    X = pipe.fit_transform(texts)
    return X, y, len(pipe.named_steps["index"].vocab_)


def _net(vocab_size, encoder="cnn"):
    mx.random.seed(0)
    net = TextClassifier(vocab_size, 2, embed_dim=8, encoder=encoder, hidden_size=8,
                         num_filters=4)
    net.initialize(mx.init.Xavier())
    return net


def test_learns_a_separable_task():
    X, y, vocab = _toy()
    net = _net(vocab)
    before = evaluate(net, X[200:], y[200:])["accuracy"]
    history = fit(net, X[:200], y[:200], X[200:250], y[200:250], num_epochs=15, lr=1e-2,
                  batch_size=32, verbose=False)
    after = evaluate(net, X[250:], y[250:])
    assert after["accuracy"] >= 0.95 and after["roc_auc"] >= 0.98
    assert after["accuracy"] > before
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
    assert {"epoch", "train_loss", "val_accuracy", "val_roc_auc", "seconds"} <= \
        set(history.epochs[0])


def test_frozen_parameters_are_bit_identical_and_others_change():
    X, y, vocab = _toy()
    net = _net(vocab)
    freeze(net, "embedding")
    freeze(net, "encoder")
    before = clone_state(net)
    fit(net, X, y, num_epochs=2, verbose=False)
    after = clone_state(net)
    for name in before:
        if name.startswith(("embedding.", "encoder.")):
            np.testing.assert_array_equal(after[name], before[name])
        else:
            assert not np.array_equal(after[name], before[name]), name


def test_same_seed_same_result():
    X, y, vocab = _toy()
    results = []
    for _ in range(2):
        net = _net(vocab)
        fit(net, X, y, num_epochs=2, random_state=7, verbose=False)
        results.append(predict_proba(net, X))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


def test_early_stopping_keeps_the_best_epoch():
    X, y, vocab = _toy()
    net = _net(vocab)
    # validation labels are the opposite of the truth: learning makes it worse
    history = fit(net, X[:200], y[:200], X[200:], 1 - y[200:], num_epochs=10, patience=2,
                  monitor="accuracy", verbose=False)
    assert history.stopped_early
    best = max(r["val_accuracy"] for r in history.epochs)
    assert history.best["val_accuracy"] == best
    assert evaluate(net, X[200:], 1 - y[200:])["accuracy"] == best


def test_predict_proba_rows_sum_to_one():
    X, y, vocab = _toy()
    proba = predict_proba(_net(vocab), X, batch_size=7)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
