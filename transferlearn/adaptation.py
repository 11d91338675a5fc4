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
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from mxnet.gluon import nn
from tqdm.auto import tqdm

from .model import named_parameters
from .train import History, _epoch_line, _keep_best, _Run, _track_best, evaluate

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


def domain_classifier(hidden: int = 100) -> nn.HybridSequential:
    net = nn.HybridSequential()
    net.add(nn.Dense(hidden, activation="relu"), nn.Dense(2))
    return net


def _cycle(n: int, batch_size: int, rng: np.random.RandomState):
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
            yield order[start:start + batch_size]


def fit_adapted(net, X_source, y_source, X_domain, method: str, X_target=None, y_target=None,  # noqa: PLR0913, PLR0915
                X_val=None, y_val=None, *, weight: float = 1.0, num_epochs: int = 10,
                batch_size: int = 32, lr: float = 1e-3, weight_decay: float = 0.0,
                patience: int | None = 4, monitor: str = "loss", random_state: int = 0,
                verbose: bool = True) -> History:
    """Train `net` on labelled source rows (and target rows) with a domain-alignment loss.

    `X_domain` are target-domain texts (ids), labels not needed. An epoch is one pass over
    the source rows; each step also draws a batch of `X_domain` (and of the labelled target
    rows, if any). With `X_val`/`y_val` (target rows) the best epoch is kept and training
    stops after `patience` epochs without improvement. Records per epoch: the task loss,
    the alignment loss and, for DANN, the domain classifier's accuracy.
    """
    if method not in METHODS:
        raise ValueError(f"unknown adaptation method {method!r}; choose from {METHODS}")
    if len(X_domain) == 0:
        raise ValueError(f"{method} needs unlabelled target texts")
    rng = np.random.RandomState(random_state)
    mx.random.seed(random_state)
    domain = domain_classifier() if method == "dann" else None
    params = {p.name: p for p in named_parameters(net).values() if p.grad_req != "null"}
    if domain is not None:
        domain.initialize(mx.init.Xavier())
        params.update(domain.collect_params())
    trainer = gluon.Trainer(params, "adam", {"learning_rate": lr, "wd": weight_decay})
    ce = gluon.loss.SoftmaxCrossEntropyLoss()
    Xs, ys = mx.nd.array(X_source, dtype="int32"), mx.nd.array(y_source)
    Xd = mx.nd.array(X_domain, dtype="int32")
    labelled = X_target is not None and len(X_target) > 0
    if labelled:
        Xt, yt = mx.nd.array(X_target, dtype="int32"), mx.nd.array(y_target)
        target_batches = _cycle(len(X_target), batch_size, rng)
    domain_batches = _cycle(len(X_domain), batch_size, rng)
    steps = num_epochs * max(1, len(X_source) // batch_size)
    validate = X_val is not None and len(X_val) > 0
    history, run, best_state, step = History(), _Run(), None, 0
    started = time.perf_counter()
    for epoch in range(1, num_epochs + 1):
        tic = time.perf_counter()
        sums = {"task": 0.0, "align": 0.0, "domain_acc": 0.0}
        n_steps = max(1, len(X_source) // batch_size)
        order = rng.permutation(len(X_source))
        for i in tqdm(range(n_steps), desc=f"epoch {epoch}/{num_epochs} ({method})",
                      leave=False, disable=not verbose, unit="batch"):
            idx = mx.nd.array(order[i * batch_size:(i + 1) * batch_size], dtype="int32")
            d_idx = mx.nd.array(next(domain_batches), dtype="int32")
            scale = dann_lambda(step / max(1, steps))
            with autograd.record():
                src = net.stages(mx.nd, Xs.take(idx))
                tgt = net.stages(mx.nd, Xd.take(d_idx))
                task = ce(src["output"], ys.take(idx)).mean()
                if labelled:
                    t_idx = mx.nd.array(next(target_batches), dtype="int32")
                    task = task + ce(net(Xt.take(t_idx)), yt.take(t_idx)).mean()
                align, acc = _alignment(method, src["pooling"], tgt["pooling"], domain, scale)
                # DANN ramps up through its reversal factor; CORAL and MMD get the same ramp,
                # without which MMD collapsed the features before the task was learnt
                loss = task + weight * (align if method == "dann" else scale * align)
            loss.backward()
            trainer.step(1)
            step += 1
            sums["task"] += float(task.asscalar())
            sums["align"] += float(align.asscalar())
            sums["domain_acc"] += acc
        record = {"epoch": epoch, "train_loss": sums["task"] / n_steps,
                  f"{method}_loss": sums["align"] / n_steps,
                  "seconds": time.perf_counter() - tic}
        if method == "dann":
            record["domain_accuracy"] = sums["domain_acc"] / n_steps
        if validate:
            val = evaluate(net, X_val, y_val)
            record.update({f"val_{k}": v for k, v in val.items()})
            best_state = _track_best(net, record, run, monitor) or best_state
            history.best_epoch = run.best_epoch
        history.epochs.append(record)
        if verbose:
            tqdm.write(_epoch_line(record) + f"  {method} {record[f'{method}_loss']:.4f}")
        if validate and patience is not None and run.waited >= patience:
            history.stopped_early = True
            break
    _keep_best(net, history, best_state)
    history.seconds = time.perf_counter() - started
    return history


def _alignment(method, source, target, domain, scale):
    """The alignment loss of one step (and, for DANN, the domain classifier's accuracy)."""
    if method == "coral":
        return coral_loss(source, target), 0.0
    if method == "mmd":
        return mmd_loss(source, target), 0.0
    feats = mx.nd.concat(source, target, dim=0)
    logits = domain(GradientReversal(scale)(feats))
    labels = mx.nd.concat(mx.nd.zeros(source.shape[0]), mx.nd.ones(target.shape[0]), dim=0)
    loss = gluon.loss.SoftmaxCrossEntropyLoss()(logits, labels).mean()
    acc = float((logits.argmax(axis=1) == labels).mean().asscalar())
    return loss, acc


__all__ = ["GradientReversal", "METHODS", "coral_loss", "dann_lambda", "domain_classifier",
           "fit_adapted", "mmd_loss"]
