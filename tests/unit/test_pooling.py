"""Max pooling runs as oneDNN's global pooling (model/network.py, 2.8x faster than ``max``
over time): its outputs and gradients are checked against the textbook masked max."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd

from transferlearn.model.network import MaskedPooling

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("hybridize", [False, True])
def test_max_pooling_equals_masked_max_over_time(hybridize):
    rng = np.random.RandomState(1)
    x = mx.nd.array(rng.randn(4, 6, 5))
    mask = mx.nd.array([[1] * 6, [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [0] * 6])
    pool = MaskedPooling("max")
    if hybridize:
        pool.hybridize()
    x.attach_grad()
    with autograd.record():
        out = pool(x, mask)
        out.backward(mx.nd.ones_like(out))
    xs, m = x.asnumpy(), mask.asnumpy()
    expected = np.stack([xs[i, m[i] > 0].max(0) if m[i].any() else np.zeros(5)
                         for i in range(4)])
    np.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-6)
    grad = np.zeros_like(xs)  # one unit of gradient at each (row, feature)'s maximum
    for i in range(3):
        idx = np.where(m[i] > 0)[0]
        grad[i, idx[xs[i, idx].argmax(0)], np.arange(5)] = 1.0
    np.testing.assert_allclose(x.grad.asnumpy(), grad)
