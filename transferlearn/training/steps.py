"""Training steps: what one batch computes, as a small object the loop calls.

A step turns a batch of row ids into per-device losses to back-propagate, plus the sums the
loop adds up for the epoch's record. The loop owns everything else (devices, optimizer,
epochs, callbacks), so every step gets resume, several devices and the distributed kvstore.

- :class:`CrossEntropy`: softmax cross-entropy on the labels;
- :class:`Distillation`: cross-entropy mixed with a teacher's softened outputs (Hinton et
  al. 2015);
- domain alignment (DANN, CORAL, MMD) lives with the other transfer code, in
  :class:`transferlearn.transfer.adaptation.Alignment`.
"""
from __future__ import annotations

import mxnet as mx
import numpy as np
from mxnet import gluon

from ..model.network import bag_weights, is_bag, named_parameters


class Step:
    """One batch of training. Subclasses implement :meth:`losses`.

    ``losses(loop, rows)`` runs inside ``autograd.record()``; `rows` are this worker's row ids
    of the batch (an int32 NDArray on the CPU). It returns ``(losses, sums)``: one loss
    NDArray per device whose sum over all devices and workers, divided by the global batch
    size, is the batch's objective; and NDArrays to add up over the epoch (``train_loss``:
    the summed task loss of the batch's rows), divided by the epoch's rows in the record.
    """

    def parameters(self) -> dict:
        """Extra parameters the step trains besides the network's (e.g. a domain classifier),
        keyed by structural name; they are updated, checkpointed and resumed like the net's."""
        return {}

    def begin(self, loop) -> None:
        """Before the first epoch (devices known); e.g. initialise extra parameters."""

    def begin_epoch(self, loop) -> None:
        """Before each epoch; e.g. reseed what the step draws, so a resumed run matches."""

    def losses(self, loop, rows):  # pragma: no cover - interface
        raise NotImplementedError


class CrossEntropy(Step):
    """Softmax cross-entropy of the network's logits against the labels ``loop.data.y``."""

    def __init__(self):
        self.loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()

    def target(self, loop, rows):
        """The targets of `rows`, one array per device."""
        return loop.split(loop.data.y_nd.take(rows))

    def losses(self, loop, rows):
        xs = loop.split(loop.batch_ids(rows))  # each (batch / n_ctx, width)
        losses = [self.loss_fn(loop.net(X_b), t_b)  # each (batch / n_ctx,)
                  for X_b, t_b in zip(xs, self.target(loop, rows), strict=True)]
        return losses, {"train_loss": losses}


class BagCrossEntropy(CrossEntropy):
    """Cross-entropy for a bag network (:func:`~transferlearn.model.network.is_bag`): each
    batch's pooled vectors are one sparse-dense product, its rows' n-gram weights
    (:func:`~transferlearn.model.network.bag_weights`, built once) times the embedding
    table, whose gradient is row-sparse. The network's embedding dropout becomes word
    dropout (each token's weight kept with probability ``1 - embed_dropout`` and rescaled):
    there is no per-position vector to drop elements of. MXNet's generator draws it, so a
    resumed run matches an uninterrupted one.

    Measured on IMDB (22,500 reviews at 704 tokens with bigrams, 2 cores): an epoch in 2 s;
    the forward through ``(batch, seq_len, embed_dim)`` token vectors took 5.5 s an epoch
    at 64 tokens, and its cost grows with the width.
    """

    def begin(self, loop) -> None:
        self.weights = bag_weights(loop.net, loop.data.X)
        self.keep = 1.0 - float(loop.net.config.get("embed_dropout", 0.0))
        # the Parameter, not its array: a resume or keep-best restore puts in fresh arrays
        self.table = named_parameters(loop.net)["embedding.weight"]

    def losses(self, loop, rows):
        ctx = loop.ctxs[0]
        part = self.weights[rows.asnumpy()]  # (batch, vocab_size), scipy CSR
        data = mx.nd.array(part.data, ctx=ctx)
        if self.keep < 1.0:  # word dropout
            data = data * (mx.nd.random.uniform(shape=data.shape, ctx=ctx) < self.keep)
            data = data / self.keep
        bag = mx.nd.sparse.csr_matrix((data, part.indices, part.indptr), shape=part.shape,
                                      ctx=ctx)
        pooled = mx.nd.sparse.dot(bag, self.table.data(ctx))  # (batch, embed_dim)
        logits = loop.net.output(loop.net.dropout(pooled))  # (batch, num_classes)
        losses = [self.loss_fn(logits, self.target(loop, rows)[0])]
        return losses, {"train_loss": losses}


def cross_entropy(net, n_ctx: int = 1, distributed: bool = False) -> CrossEntropy:
    """The cross-entropy step for `net`: :class:`BagCrossEntropy` for a bag network on one
    device and one worker, :class:`CrossEntropy` otherwise."""
    return BagCrossEntropy() if is_bag(net) and n_ctx == 1 and not distributed else CrossEntropy()


class Distillation(CrossEntropy):
    """``alpha * T^2 * CE(softmax(teacher / T), softmax(net / T)) + (1 - alpha) * CE(y, net)``
    with ``T = temperature`` (Hinton et al. 2015); `teacher_logits` is ``(n, num_classes)``,
    one row per training row."""

    def __init__(self, teacher_logits: np.ndarray, temperature: float = 2.0, alpha: float = 0.5):
        super().__init__()
        self.teacher_logits = teacher_logits
        self.temperature = temperature
        self.alpha = alpha
        hard = self.loss_fn

        def loss(y_hat, target):
            y, q = target
            log_p = mx.nd.log_softmax(y_hat / temperature, axis=1)  # (batch, num_classes)
            soft = -(q * log_p).sum(axis=1) * temperature ** 2
            return alpha * soft + (1.0 - alpha) * hard(y_hat, y)

        self.loss_fn = loss

    def begin(self, loop) -> None:
        if len(self.teacher_logits) != len(loop.data.X):
            raise ValueError(f"soft_targets has {len(self.teacher_logits)} rows but X has "
                             f"{len(loop.data.X)}")
        self.q_nd = mx.nd.softmax(mx.nd.array(self.teacher_logits, dtype="float32")
                                  / self.temperature)

    def target(self, loop, rows):  # (labels, teacher probabilities) pairs
        return list(zip(super().target(loop, rows), loop.split(self.q_nd.take(rows)),
                        strict=True))


__all__ = ["BagCrossEntropy", "CrossEntropy", "Distillation", "Step", "cross_entropy"]
