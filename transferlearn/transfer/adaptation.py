"""Domain adaptation with unlabelled target texts: DANN, CORAL and MMD.

All three train the network on labelled source rows (and the labelled target rows, if any)
while pulling the pooled features of the two domains together:

- ``dann`` (Ganin et al. 2016): a domain classifier on the pooled features, behind a
  gradient-reversal layer whose factor follows ``2 / (1 + exp(-10 p)) - 1`` over training
  progress ``p``; the encoder learns features the classifier cannot tell apart.
- ``coral`` (Sun & Saenko 2016): the distance between the two domains' feature covariances,
  ``||C_s - C_t||_F^2 / (4 d^2)``.
- ``mmd``: the maximum mean discrepancy with a sum of Gaussian kernels at five bandwidths
  around the median pairwise distance.

The CORAL and MMD terms are weighted by the same ramp as DANN's reversal factor, so the task
is learnt before the features are pulled together.
"""
from __future__ import annotations

import math

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from mxnet.gluon import nn

from ..log import verbosity
from ..model.network import named_parameters
from ..training.fit import standard_callbacks
from ..training.loop import Data, History, epoch_seed, train_loop
from ..training.steps import Step

METHODS = ("dann", "coral", "mmd")


class GradientReversal(autograd.Function):
    """Identity forward; the gradient times ``-scale`` backward."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x.copy()

    def backward(self, dy):
        return -self.scale * dy


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """DANN's reversal factor: 0 at the start of training, close to 1 at the end."""
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0


def _covariance(f):  # (n, d) -> (d, d)
    centred = f - f.mean(axis=0, keepdims=True)
    return mx.nd.dot(centred, centred, transpose_a=True) / max(f.shape[0] - 1, 1)


def coral_loss(source, target):
    """CORAL: squared Frobenius distance of the feature covariances over ``4 d^2``."""
    d = source.shape[1]
    return ((_covariance(source) - _covariance(target)) ** 2).sum() / (4.0 * d * d)


def _sq_distances(a, b):  # (n, d), (m, d) -> (n, m)
    aa = (a * a).sum(axis=1, keepdims=True)
    bb = (b * b).sum(axis=1, keepdims=True)
    return mx.nd.maximum(aa + bb.T - 2.0 * mx.nd.dot(a, b, transpose_b=True), 0.0)


def mmd_loss(source, target, scales=(0.25, 0.5, 1.0, 2.0, 4.0)):
    """Squared MMD with the mean of Gaussian kernels whose bandwidths scale the median
    squared distance between the features."""
    both = mx.nd.concat(source, target, dim=0)
    d2 = _sq_distances(both, both)
    median = float(np.median(d2.asnumpy())) or 1.0
    kernel = sum(mx.nd.exp(-d2 / (2.0 * median * s)) for s in scales) / len(scales)
    n = source.shape[0]
    k_ss, k_tt, k_st = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    return k_ss.mean() + k_tt.mean() - 2.0 * k_st.mean()


def domain_classifier(hidden: int = 100, in_units: int = 0) -> nn.HybridSequential:
    """DANN's domain classifier on pooled features of size `in_units` (0: inferred)."""
    net = nn.HybridSequential()
    net.add(nn.Dense(hidden, activation="relu", in_units=in_units), nn.Dense(2, in_units=hidden))
    return net


def _cycle(n: int, batch_size: int, rng: np.random.RandomState):
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
            yield order[start:start + batch_size]


class Alignment(Step):
    """The step of DANN, CORAL and MMD: the task loss on a batch of labelled source rows
    (plus a batch of labelled target rows, if any) and `weight` times the alignment loss
    between the pooled features of the source batch and a batch of target texts `X_domain`.

    The extra batches are drawn with a generator reseeded every epoch, so a resumed run
    draws what the uninterrupted one drew. Records per epoch: the task loss, the alignment
    loss (``<method>_loss``) and, for DANN, the domain classifier's accuracy.
    """

    def __init__(self, method: str, X_domain, X_target=None, y_target=None,
                 weight: float = 1.0, random_state: int = 0):
        if method not in METHODS:
            raise ValueError(f"unknown adaptation method {method!r}; choose from {METHODS}")
        if len(X_domain) == 0:
            raise ValueError(f"{method} needs unlabelled target texts")
        self.method, self.weight, self.random_state = method, weight, random_state
        self.X_domain, self.X_target, self.y_target = X_domain, X_target, y_target
        self.labelled = X_target is not None and len(X_target) > 0
        self.domain: nn.HybridSequential | None = None  # DANN's, built in begin()
        self.ce = gluon.loss.SoftmaxCrossEntropyLoss()

    def parameters(self) -> dict:
        return named_parameters(self.domain) if self.domain is not None else {}

    def begin(self, loop) -> None:
        if self.method == "dann":
            # shapes known now, so a resumed run can load the classifier before a forward pass
            one = loop.data.X_nd[:1].as_in_context(loop.ctxs[0])
            domain = domain_classifier(in_units=loop.net.stages(mx.nd, one)[
                "pooling"].shape[1])  # pooling: (1, features)
            mx.random.seed(self.random_state)
            domain.initialize(mx.init.Xavier(), ctx=loop.ctxs, force_reinit=True)
            self.domain = domain
        self.Xd = mx.nd.array(self.X_domain, dtype="int32")
        if self.labelled:
            self.Xt = mx.nd.array(self.X_target, dtype="int32")
            self.yt = mx.nd.array(self.y_target, dtype="float32")

    def begin_epoch(self, loop) -> None:
        rng = np.random.RandomState(epoch_seed(self.random_state, loop.epoch) + 1)
        self.domain_batches = _cycle(len(self.X_domain), loop.batch_size, rng)
        if self.labelled:
            self.target_batches = _cycle(len(self.X_target), loop.batch_size, rng)

    def _draw(self, loop, batches, *arrays) -> list:
        """This worker's share of the next batch of `batches`, split across the devices."""
        idx = next(batches)
        part = idx[loop.cluster.rank::loop.cluster.num_workers]
        rows = mx.nd.array(part if len(part) else idx, dtype="int32")
        return [loop.split(a.take(rows)) for a in arrays]

    def losses(self, loop, rows):
        xs, ys = loop.split(loop.batch_ids(rows)), loop.split(loop.data.y_nd.take(rows))
        (xd,) = self._draw(loop, self.domain_batches, self.Xd)
        xt, yt = (self._draw(loop, self.target_batches, self.Xt, self.yt) if self.labelled
                  else ([None] * len(xs), [None] * len(xs)))
        scale = dann_lambda(loop.steps / max(1, loop.total_steps))
        losses, sums = [], {"train_loss": [], f"{self.method}_loss": [], "domain_accuracy": []}
        for i, (X_b, y_b) in enumerate(zip(xs, ys, strict=True)):
            n = X_b.shape[0]
            src = loop.net.stages(mx.nd, X_b)  # pooling: (n, hidden)
            tgt = loop.net.stages(mx.nd, xd[i])
            task = self.ce(src["output"], y_b).mean()
            if self.labelled:
                task = task + self.ce(loop.net(xt[i]), yt[i]).mean()
            align, acc = _alignment(self.method, src["pooling"], tgt["pooling"], self.domain,
                                    scale)
            # DANN ramps up through its reversal factor; CORAL and MMD get the same ramp,
            # without which MMD collapsed the features before the task was learnt
            ramp = 1.0 if self.method == "dann" else scale
            losses.append(n * (task + self.weight * ramp * align))
            sums["train_loss"].append(n * task)
            sums[f"{self.method}_loss"].append(n * align)
            sums["domain_accuracy"].append(n * acc)
        if self.method != "dann":
            del sums["domain_accuracy"]
        return losses, sums


def fit_adapted(net, X_source, y_source, X_domain, method: str, X_target=None, y_target=None,  # noqa: PLR0913
                X_val=None, y_val=None, *, weight: float = 1.0, num_epochs: int = 10,
                batch_size: int = 32, lr: float = 1e-3, weight_decay: float = 0.0,
                patience: int | None = 4, monitor: str = "loss", random_state: int = 0,
                verbose: bool = True, ctx=None, kvstore="device", checkpoint=None,
                resume: bool = False, epoch_callback=None,
                length_buckets: int | None = None) -> History:
    """Train `net` on labelled source rows (and target rows) with a domain-alignment loss.

    `X_domain` are target-domain texts (ids), labels not needed. An epoch is one pass over
    the source rows; each step also draws a batch of `X_domain` (and of the labelled target
    rows, if any); see :class:`Alignment`. With `X_val`/`y_val` (target rows) the best epoch
    is kept and training stops after `patience` epochs without improvement. `ctx`,
    `kvstore`, `checkpoint`, `resume` and `epoch_callback` work as in
    :func:`~transferlearn.training.fit`; `length_buckets` too, although alignment batches
    drop the last partial batch and so are never bucketed.
    """
    step = Alignment(method, X_domain, X_target, y_target, weight, random_state)
    callbacks = standard_callbacks(
        X_val, y_val, monitor=monitor, patience=patience, verbose=verbose,
        checkpoint=checkpoint, resume=resume and checkpoint is not None, progress=method,
        epoch_callback=epoch_callback,
        progress_extra=(f"{method}_loss",))
    with verbosity(verbose):
        return train_loop(net, Data(X_source, y_source), step, callbacks,
                          num_epochs=num_epochs, batch_size=batch_size, lr=lr,
                          weight_decay=weight_decay, random_state=random_state, ctx=ctx,
                          kvstore=kvstore, hybridize=False, drop_last=True,
                          length_buckets=length_buckets)


def _alignment(method, source, target, domain, scale):
    """The alignment loss of one step (and, for DANN, the domain classifier's accuracy, an
    NDArray: reading it would wait for the engine)."""
    zero = mx.nd.zeros((1,), ctx=source.context)
    if method == "coral":
        return coral_loss(source, target), zero
    if method == "mmd":
        return mmd_loss(source, target), zero
    feats = mx.nd.concat(source, target, dim=0)
    logits = domain(GradientReversal(scale)(feats))
    labels = mx.nd.concat(mx.nd.zeros(source.shape[0], ctx=source.context),
                          mx.nd.ones(target.shape[0], ctx=source.context), dim=0)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()(logits, labels).mean()
    acc = (logits.argmax(axis=1) == labels).mean()
    return loss, acc


__all__ = ["Alignment", "GradientReversal", "METHODS", "coral_loss", "dann_lambda",
           "domain_classifier", "fit_adapted", "mmd_loss"]
