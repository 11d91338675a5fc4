import mxnet as mx
import numpy as np
import pytest

from transferlearn.model.encoders import ENCODERS
from transferlearn.model.network import TextClassifier, named_parameters, summary


def _net(encoder, **kw):
    mx.random.seed(0)
    net = TextClassifier(50, 3, embed_dim=8, encoder=encoder, hidden_size=6, num_filters=4,
                         **kw)
    net.initialize(mx.init.Xavier())
    return net


@pytest.mark.parametrize("encoder", ENCODERS)
def test_shapes_of_every_slot_and_hybridize(encoder):
    net = _net(encoder)
    x = mx.nd.array([[4, 5, 6, 0, 0], [7, 0, 0, 0, 0]], dtype="int32")
    stages = net.stages(mx.nd, x)
    hidden = {"mean": 6, "cnn": 12, "bilstm": 12, "ngram": 8}[encoder]
    assert stages["embedding"].shape == (2, 5, 8)
    assert stages["encoder"].shape == (2, 5, hidden)
    assert stages["pooling"].shape == (2, hidden)
    assert stages["output"].shape == (2, 3)
    eager = net(x).asnumpy()
    net.hybridize(static_alloc=True, static_shape=True)
    np.testing.assert_allclose(net(x).asnumpy(), eager, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("encoder", ["mean", "cnn"])
def test_padding_is_masked(encoder):
    net = _net(encoder)
    short = mx.nd.array([[4, 5, 6]], dtype="int32")
    padded = mx.nd.array([[4, 5, 6, 0, 0, 0, 0]], dtype="int32")
    np.testing.assert_allclose(net(short).asnumpy(), net(padded).asnumpy(), rtol=1e-5, atol=1e-6)


def test_all_padding_row_is_finite():
    net = _net("cnn")
    out = net(mx.nd.zeros((1, 4), dtype="int32")).asnumpy()
    assert np.isfinite(out).all()


def test_unknown_encoder():
    with pytest.raises(ValueError, match="unknown encoder 'gru'"):
        TextClassifier(10, 2, encoder="gru")


def test_summary_reports_counts_and_frozen_layers():
    net = _net("mean")
    net.embedding.weight.grad_req = "null"
    text = summary(net)
    assert "embedding.weight" in text and "50x8" in text and "frozen" in text
    total = sum(int(np.prod(p.shape)) for p in named_parameters(net).values())
    assert f"total {total:,} parameters, {total - 400:,} trainable, 400 frozen" in text


def test_replace_head():
    net = _net("mean")
    net.replace_head(5)
    assert net(mx.nd.array([[1, 2]], dtype="int32")).shape == (1, 5)
    assert net.config["num_classes"] == 5


def test_masked_pooling_matches_numpy_and_ignores_padding():
    from transferlearn.model.network import MaskedPooling

    rng = np.random.RandomState(0)
    x = rng.randn(4, 6, 3).astype("float32")
    lengths = np.array([6, 3, 1, 0])
    mask = (np.arange(6)[None, :] < lengths[:, None]).astype("float32")  # padding at the end
    for mode in ("mean", "max"):
        pool = MaskedPooling(mode)
        pool.hybridize()
        got = pool(mx.nd.array(x), mx.nd.array(mask)).asnumpy()
        for i, n in enumerate(lengths):
            want = (np.zeros(3) if n == 0 else
                    x[i, :n].mean(axis=0) if mode == "mean" else x[i, :n].max(axis=0))
            np.testing.assert_allclose(got[i], want, rtol=1e-5, atol=1e-6, err_msg=mode)
