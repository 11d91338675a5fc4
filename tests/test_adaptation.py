"""Domain adaptation: the reversal layer, the alignment losses, and training with them."""
import mxnet as mx
import numpy as np
import pytest
from conftest import toy_texts

from transferlearn.adaptation import (
    GradientReversal,
    coral_loss,
    dann_lambda,
    fit_adapted,
    mmd_loss,
)
from transferlearn.model import TextClassifier
from transferlearn.text import make_pipeline
from transferlearn.train import evaluate


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
    net = TextClassifier(len(pipe.named_steps["index"].vocab_), 2, embed_dim=8,
                         encoder="mean", hidden_size=8)
    net.initialize(mx.init.Xavier())
    history = fit_adapted(net, X[:200], y[:200], X[200:], method, num_epochs=6, lr=1e-2,
                          batch_size=32, verbose=False, X_val=X[250:], y_val=y[250:])
    assert evaluate(net, X[200:], y[200:])["accuracy"] >= 0.9
    assert f"{method}_loss" in history.epochs[0]
    if method == "dann":
        assert 0.0 <= history.epochs[-1]["domain_accuracy"] <= 1.0


def test_dann_with_no_target_label_and_coral_with_extra_texts(base_bundle, movie_slice,
                                                              amazon_slice, tmp_path):
    import json

    import pandas as pd
    from conftest import run_script

    extra = tmp_path / "more.txt"
    extra.write_text("the charger broke in a day\nworks fine with my laptop\n")
    for strategy, size, more in (("dann", "0", ["--label-shift"]),
                                 ("coral", "100", ["--unlabeled", extra])):
        result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                            "--strategy", strategy, "--train-size", size, "--epochs", "2",
                            "--source-data", movie_slice, "--source-rows", "300",
                            "--no-scratch-check", "--out", tmp_path / strategy, *more)
        assert result.returncode == 0, result.stderr
        n_texts = len(pd.read_csv(amazon_slice)) - 120  # the training part of the split
        assert f"{strategy}: 300 labelled source rows, {int(size) and 85 or 0} labelled " \
            "target rows" in result.stdout
        assert f"{n_texts + (2 if strategy == 'coral' else 0):,} target texts" in result.stdout
        metrics = json.loads((tmp_path / strategy / "metrics.json").read_text())
        assert f"{strategy}_loss" in metrics["history"][0]
        if strategy == "dann":  # priors of the rows it learnt from: the source's
            assert f"| {strategy}+priors |" in result.stdout
            assert set(metrics["label_shift"]["train_priors"]) == {"negative", "positive"}


def test_train_size_zero_needs_an_adaptation_strategy(base_bundle, amazon_slice, tmp_path):
    from conftest import run_script

    result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--strategy", "fine-tune", "--train-size", "0", "--out", tmp_path / "x")
    assert result.returncode == 2
    assert "strategy fine-tune needs labelled target rows" in result.stderr
