"""``fit(net, X, y, X_val, y_val)``: the training loop with the usual step and callbacks.

A convenience over :func:`~.loop.train_loop` for the common case: cross-entropy (or
distillation) on token ids, validation with keep-best and early stopping, and, by keyword,
gradual unfreezing, a learning-rate schedule, checkpoints with resume and a per-epoch
callback. Other steps (domain alignment) call :func:`standard_callbacks` and
:func:`~.loop.train_loop` the same way.
"""
from __future__ import annotations

import numpy as np
from mxnet import gluon

from ..log import verbosity
from . import distributed
from .callbacks import Checkpoint, EpochEnd, KeepBest, Progress, Schedule, Unfreeze
from .loop import Data, History, train_loop
from .steps import BagCrossEntropy, Distillation, cross_entropy


def standard_callbacks(X_val=None, y_val=None, *, monitor: str = "accuracy",  # noqa: PLR0913
                       patience: int | None = 3, verbose: bool = True, epoch_callback=None,
                       epoch_start=None, lr_schedule=None, checkpoint=None,
                       resume: bool = False, progress: str = "",
                       progress_extra: tuple = (), extra: tuple | list = ()) -> list:
    """The callbacks the keyword arguments of :func:`fit` ask for (see there), then the
    caller's own (`extra`)."""
    callbacks: list = [KeepBest(X_val, y_val, monitor, patience)]
    if epoch_start is not None:
        callbacks.append(Unfreeze(epoch_start))
    if lr_schedule is not None:
        callbacks.append(Schedule(lr_schedule))
    if verbose:
        callbacks.append(Progress(progress, extra=progress_extra))
    if checkpoint is not None:
        callbacks.append(Checkpoint(checkpoint, resume, verbose))
    if epoch_callback is not None:
        callbacks.append(EpochEnd(epoch_callback))
    return callbacks + list(extra)


def fit(net: gluon.Block, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None,  # noqa: PLR0913
        y_val: np.ndarray | None = None, *, num_epochs: int = 10, batch_size: int = 64,
        lr: float = 1e-3, weight_decay: float = 0.0, patience: int | None = 3,
        monitor: str = "accuracy", random_state: int | None = 0, ctx=None,
        kvstore="device", hybridize: bool = True, verbose: bool = True, epoch_callback=None,
        epoch_start=None, lr_schedule=None, checkpoint=None, resume: bool = False,
        soft_targets: np.ndarray | None = None, temperature: float = 2.0,
        alpha: float = 0.5, length_buckets: int | None = None, callbacks=()) -> History:
    """Train `net` on int ids `X` (n, seq_len) and class indices `y` (n,).

    Parameters
    ----------
    X_val, y_val : optional
        Validation rows; with them each epoch is scored, the best epoch's weights are kept
        (restored at the end) and training stops after `patience` epochs without improvement.
    monitor : {"accuracy", "roc_auc", "loss"}, the validation figure of the best epoch
    random_state : int, optional
        Seeds the batch order and MXNet's generator (dropout, reseeded each epoch).
    ctx : Context or list of Context, optional
        Devices to train on (default CPU). With several, each batch is split across them
        (``split_and_load``) and the gradients are summed; the parameters end on the first.
    kvstore : str or KVStore
        ``"device"`` (one machine), or ``"dist_sync"`` / ``"dist_async"`` (several processes
        started by :mod:`transferlearn.cli.launch`): each worker takes its share of every
        batch of `batch_size` rows (the global batch) and the gradients are combined.
    epoch_callback, epoch_start : callable, optional
        Called as ``epoch_callback(net, record)`` after each epoch, and
        ``epoch_start(net, epoch)`` before each, e.g. to unfreeze a layer group (gradual
        unfreezing); the Trainer then covers frozen parameters as well.
    lr_schedule : callable, optional
        ``lr_schedule(step, total_steps)`` -> factor on `lr` for each batch (e.g.
        :func:`~.callbacks.slanted_triangular`); `total_steps` assumes every epoch runs.
    checkpoint, resume : Checkpointer, bool
        A checkpoint after every epoch (:mod:`transferlearn.io.checkpoint`); `resume`
        continues from the newest, with the result of an uninterrupted run.
    soft_targets : ndarray, optional
        A teacher's logits ``(n, num_classes)`` for knowledge distillation (see
        :class:`~.steps.Distillation`, with `temperature` and `alpha`).
    length_buckets : int, optional
        Batches of similar-length rows cut to their bucket's width (see
        :class:`~.buckets.LengthBuckets`): this many buckets; 0: off; None: automatic.
    callbacks : sequence of Callback, optional
        Your own, beside those the arguments ask for (:class:`~.callbacks.Callback`).

    Returns the :class:`~.loop.History`.
    """
    step = _step(net, ctx, kvstore, soft_targets, temperature, alpha)
    everything = standard_callbacks(
        X_val, y_val, monitor=monitor, patience=patience, verbose=verbose,
        epoch_callback=epoch_callback, epoch_start=epoch_start, lr_schedule=lr_schedule,
        checkpoint=checkpoint, resume=resume and checkpoint is not None, extra=callbacks)
    with verbosity(verbose):
        return train_loop(net, Data(X, y), step, everything, num_epochs=num_epochs,
                          batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                          random_state=random_state, ctx=ctx, kvstore=kvstore,
                          hybridize=hybridize, include_frozen=epoch_start is not None,
                          # a bag step reads no padding: buckets would only group by length
                          length_buckets=0 if isinstance(step, BagCrossEntropy)
                          else length_buckets)


def _step(net, ctx, kvstore, soft_targets, temperature: float, alpha: float):
    """Distillation with `soft_targets`, else cross-entropy (a bag network's own on one
    device and one worker)."""
    if soft_targets is not None:
        return Distillation(soft_targets, temperature, alpha)
    devices = len(ctx) if isinstance(ctx, (list, tuple)) else 1
    return cross_entropy(net, devices, distributed.is_distributed(kvstore))


__all__ = ["fit", "standard_callbacks"]
