"""Domain adaptation: the reversal layer, the alignment losses, and training with them."""
import mxnet as mx
import numpy as np
import pytest
from conftest import toy_texts

from transferlearn.data.pipeline import make_pipeline
from transferlearn.model.network import TextClassifier
from transferlearn.training.metrics import evaluate
from transferlearn.transfer.adaptation import (
    GradientReversal,
    coral_loss,
    dann_lambda,
    fit_adapted,
    mmd_loss,
)


def test_gradient_reversal_is_identity_forward_and_negated_backward():
    x = mx.nd.array([[1.0, -2.0], [3.0, 4.0]])
    w = mx.nd.array([[0.5, 1.0], [2.0, -1.0]])
    x.attach_grad()
    with mx.autograd.record():
        y = GradientReversal(0.3)(x)
        loss = (y * w).sum()
    loss.backward()
    np.testing.assert_array_equal(y.asnumpy(), x.asnumpy())
    np.testing.assert_allclose(x.grad.asnumpy(), -0.3 * w.asnumpy(), rtol=1e-6)


def test_dann_lambda_schedule():
    assert dann_lambda(0.0) == 0.0
    assert 0.99 < dann_lambda(1.0) < 1.0
    assert dann_lambda(0.1) < dann_lambda(0.5)


@pytest.mark.parametrize("loss", [coral_loss, mmd_loss])
def test_alignment_losses_grow_with_the_domain_gap(loss):
    rng = np.random.RandomState(0)
    a = mx.nd.array(rng.randn(200, 5))
    same = mx.nd.array(rng.randn(200, 5))
    shifted = mx.nd.array(rng.randn(200, 5) * 3.0 + 2.0)
    near, far = float(loss(a, same).asscalar()), float(loss(a, shifted).asscalar())
    assert 0.0 <= near < far and near < 0.1 * far


@pytest.mark.parametrize("method", ["dann", "coral", "mmd"])
def test_training_with_adaptation_learns_the_source_task(method):
    texts, y = toy_texts(300, 2)
    pipe = make_pipeline(max_len=8)
    X = pipe.fit_transform(texts)
    mx.random.seed(0)
    # 8 dimensions for a toy vocabulary: dropping half of them (the default 0.5) starves MMD
    net = TextClassifier(len(pipe.named_steps["index"].vocab_), 2, embed_dim=8,
                         encoder="mean", hidden_size=8, embed_dropout=0.0)
    net.initialize(mx.init.Xavier())
    history = fit_adapted(net, X[:200], y[:200], X[200:], method, num_epochs=6, lr=1e-2,
                          batch_size=32, verbose=False, X_val=X[250:], y_val=y[250:])
    assert evaluate(net, X[200:], y[200:])["accuracy"] >= 0.9
    assert f"{method}_loss" in history.epochs[0]
    if method == "dann":
        assert 0.0 <= history.epochs[-1]["domain_accuracy"] <= 1.0


class _Crash(Exception):
    pass


def _toy_net(pipe, seed=0):
    mx.random.seed(seed)
    net = TextClassifier(len(pipe.named_steps["index"].vocab_), 2, embed_dim=8,
                         encoder="mean", hidden_size=8)
    net.initialize(mx.init.Xavier())
    return net


@pytest.mark.parametrize("method", ["dann", "mmd"])
def test_adaptation_crashed_mid_run_resumes_to_the_uninterrupted_result(method, tmp_path):
    """The one loop gives domain alignment checkpoints and resume: a run that dies after
    epoch 2 and resumes ends with the weights of a run that never stopped (the domain
    classifier's weights and the drawn target batches included)."""
    from transferlearn.io.checkpoint import Checkpointer
    from transferlearn.training import clone_state

    texts, y = toy_texts(300, 2)
    pipe = make_pipeline(max_len=8)
    X = pipe.fit_transform(texts)
    kwargs = dict(num_epochs=4, lr=1e-2, batch_size=32, verbose=False, X_val=X[250:],
                  y_val=y[250:], patience=None, random_state=5)
    whole = _toy_net(pipe)
    h1 = fit_adapted(whole, X[:200], y[:200], X[200:], method, X[200:220], y[200:220],
                     checkpoint=Checkpointer(tmp_path / "a", {}), **kwargs)

    def crash(net, record):
        if record["epoch"] == 2:
            raise _Crash

    killed = _toy_net(pipe)
    with pytest.raises(_Crash):
        from transferlearn.training.callbacks import EpochEnd
        from transferlearn.training.fit import standard_callbacks
        from transferlearn.training.loop import Data, train_loop
        from transferlearn.transfer.adaptation import Alignment

        step = Alignment(method, X[200:], X[200:220], y[200:220], random_state=5)
        callbacks = standard_callbacks(X[250:], y[250:], monitor="loss", patience=None,
                                       verbose=False,
                                       checkpoint=Checkpointer(tmp_path / "b", {}))
        train_loop(killed, Data(X[:200], y[:200]), step, [*callbacks, EpochEnd(crash)],
                   num_epochs=4, batch_size=32, lr=1e-2, random_state=5, hybridize=False,
                   drop_last=True)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["epoch-0002"]
    resumed = _toy_net(pipe, seed=99)  # other initial weights: all must come from the files
    h2 = fit_adapted(resumed, X[:200], y[:200], X[200:], method, X[200:220], y[200:220],
                     checkpoint=Checkpointer(tmp_path / "b", {}), resume=True, **kwargs)
    assert [r["epoch"] for r in h2.epochs] == [1, 2, 3, 4]
    for r1, r2 in zip(h1.epochs, h2.epochs, strict=True):
        assert r2["train_loss"] == pytest.approx(r1["train_loss"], rel=1e-5)
        assert r2[f"{method}_loss"] == pytest.approx(r1[f"{method}_loss"], rel=1e-4, abs=1e-7)
    assert h2.best_epoch == h1.best_epoch
    a, b = clone_state(whole), clone_state(resumed)
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_dann_trains_on_two_devices():
    """Each batch (source, target texts and labelled target rows) is split across the
    contexts, the gradients summed, and the parameters end on the first context."""
    texts, y = toy_texts(300, 2)
    pipe = make_pipeline(max_len=8)
    X = pipe.fit_transform(texts)
    net = _toy_net(pipe)
    devices = [mx.cpu(0), mx.cpu(1)]
    history = fit_adapted(net, X[:200], y[:200], X[200:], "dann", X[200:220], y[200:220],
                          num_epochs=6, lr=1e-2, batch_size=32, verbose=False, ctx=devices,
                          X_val=X[250:], y_val=y[250:])
    assert evaluate(net, X[200:], y[200:])["accuracy"] >= 0.9
    assert 0.0 <= history.epochs[-1]["domain_accuracy"] <= 1.0
    from transferlearn.model.network import named_parameters

    assert all(p.list_ctx() == [mx.cpu(0)] for p in named_parameters(net).values())
