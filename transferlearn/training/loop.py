"""The training loop: ``train_loop(net, data, step, callbacks)``.

One loop serves every strategy. It owns the devices (``ctx``, split per batch), the
optimizer (Adam over the parameters whose ``grad_req`` is not ``'null'``, so frozen layers
stay bit-identical, plus the step's own), the batch order and MXNet's seed per epoch, and
the distributed kvstore. What one batch computes is the *step* (:mod:`.steps`); everything
that cuts across training is a *callback* (:mod:`.callbacks`: keep-best / early stopping,
checkpoint + resume, gradual unfreezing, learning-rate schedule, progress, per-epoch
records), told of each event as in skorch, fastai or MXNet's estimator event handlers:

    on_train_begin -> (on_epoch_begin -> (on_batch_begin -> on_batch_end)* -> on_epoch_end)*
    -> on_train_end
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from typing import Any

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from ..model.inference import token_lengths
from ..model.network import named_parameters
from . import distributed
from .buckets import LengthBuckets


@dataclass
class History:
    """Per-epoch records (dicts) of a training run, plus the epoch whose weights were kept."""

    epochs: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.epochs)

    @property
    def best(self) -> dict:
        """The record of the kept epoch (the last one if nothing was monitored)."""
        if not self.epochs:
            return {}
        return self.epochs[(self.best_epoch or len(self.epochs)) - 1]


class Data:
    """Training rows: token ids `X` ``(n, seq_len)`` and class indices `y` ``(n,)``; the ids
    are copied to MXNet once, when a step first asks for them (batches are ``take`` of row
    ids; a bag's step never asks: IMDB's training ids are 127 MB)."""

    def __init__(self, X: np.ndarray, y: np.ndarray):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if len(X) == 0:
            raise ValueError("no training rows")
        self.X, self.y = X, y
        self.y_nd = mx.nd.array(y, dtype="float32")

    @functools.cached_property
    def X_nd(self) -> mx.nd.NDArray:
        return mx.nd.array(self.X, dtype="int32")

    def __len__(self) -> int:
        return len(self.X)

    @functools.cached_property
    def lengths(self) -> np.ndarray:
        """Tokens per row, at least 1 (what length buckets sort by)."""
        return np.maximum(1, token_lengths(self.X))

    def ids(self, rows: mx.nd.NDArray, width: int | None = None) -> mx.nd.NDArray:
        """The token ids of `rows` ``(batch, seq_len)``, cut to `width` columns (a length
        bucket's: only padding is cut)."""
        X = self.X_nd.take(rows)
        return X if width is None or width >= X.shape[1] else mx.nd.slice_axis(
            X, axis=1, begin=0, end=width)  # (batch, width)


def trainable_parameters(net: gluon.Block) -> dict:
    """Parameters that training will update, keyed by structural name."""
    return {name: p for name, p in named_parameters(net).items() if p.grad_req != "null"}


def make_trainer(net: gluon.Block, lr: float = 1e-3, weight_decay: float = 0.0,
                 optimizer: str = "adam", kvstore="device", include_frozen: bool = False,
                 extra: dict | None = None) -> gluon.Trainer:
    """A Trainer over the currently trainable parameters (rebuild it after (un)freezing).

    Each parameter's ``lr_mult`` scales its learning rate (discriminative rates). With
    `include_frozen`, frozen parameters are included too: the Trainer skips them while their
    ``grad_req`` is ``"null"`` and updates them once unfrozen (gradual unfreezing), without
    losing the optimizer state of the others. `extra` parameters (a step's) are added.
    """
    params = dict(named_parameters(net) if include_frozen else trainable_parameters(net))
    if not params:
        raise ValueError("no trainable parameters: every layer is frozen")
    params.update(extra or {})
    kind = kvstore if isinstance(kvstore, str) else getattr(kvstore, "type", "")
    # dist_sync: workers sum gradients through the servers and each updates its own copy, so
    # learning-rate changes and checkpoints stay local; dist_async must update on the servers
    update_on_kvstore = False if "dist" in kind and "async" not in kind else None
    return gluon.Trainer(
        {p.name: p for p in params.values()}, optimizer,
        {"learning_rate": lr, "wd": weight_decay}, kvstore=kvstore,
        update_on_kvstore=update_on_kvstore,
    )


def device_contexts(gpus=None) -> list:
    """``[mx.cpu()]`` for no `gpus`, else one ``mx.gpu(i)`` per index (e.g. ``[0, 1]``).

    Raises a one-line error when this MXNet build has fewer GPUs than asked for (the pip
    ``mxnet`` wheel is CPU-only; GPUs need ``mxnet-cu*``).
    """
    if not gpus:
        return [mx.cpu()]
    gpus = [int(g) for g in gpus]
    try:
        available = mx.context.num_gpus()
    except mx.base.MXNetError:
        available = 0
    missing = [g for g in gpus if g >= available or g < 0]
    if missing:
        from ..errors import TransferLearnError

        raise TransferLearnError(
            f"--gpus {','.join(map(str, gpus))}: GPU {missing[0]} is not available (this "
            f"MXNet build sees {available} GPU(s); the pip 'mxnet' wheel is CPU-only, GPUs "
            "need an 'mxnet-cu*' wheel matching your CUDA)")
    return [mx.gpu(g) for g in gpus]


def _contexts(ctx) -> list:
    if ctx is None:
        return [mx.cpu()]
    return list(ctx) if isinstance(ctx, (list, tuple)) else [ctx]


def epoch_seed(random_state: int, epoch: int) -> int:
    """MXNet's generator is reseeded each epoch, so a resumed run draws the same dropout."""
    return int(random_state) + 100_003 * (epoch - 1)


class Loop:
    """The state of one training run, handed to the step and to every callback.

    Attributes callbacks read or set: ``net``, ``data``, ``step``, ``trainer``, ``ctxs``,
    ``cluster``, ``rng`` (the batch order), ``lr``, ``batch_size``, ``num_epochs``,
    ``epoch`` (the current or last finished one), ``steps`` (batches so far),
    ``total_steps``, ``batches`` (this epoch's), ``batch`` (index in the epoch), ``record``
    (this epoch's, filled at ``on_epoch_end``), ``history`` and ``stop`` (set to end
    training after this epoch).
    """

    def __init__(self, net, data: Data, step, callbacks, *, ctxs, cluster, rng, lr,  # noqa: PLR0913
                 batch_size, num_epochs, drop_last=False, length_buckets=None):
        self.net, self.data, self.step = net, data, step
        self.callbacks = sorted(callbacks, key=lambda c: c.order)
        self.ctxs, self.cluster, self.rng = ctxs, cluster, rng
        self.lr, self.batch_size, self.num_epochs = lr, batch_size, num_epochs
        self.trainer: Any = None  # a gluon.Trainer once train_loop has built it
        self.epoch, self.steps, self.batch, self.batches = 0, 0, 0, 0
        self.drop_last = drop_last
        self.buckets = (None if drop_last else
                        LengthBuckets.make(data.lengths, batch_size, length_buckets))
        self.width: int | None = None  # the current batch's columns (its bucket's width)
        self.total_steps = num_epochs * (
            len(self.buckets) if self.buckets else
            len(data) // batch_size if drop_last else -(-len(data) // batch_size))
        self.history = History()
        self.record: dict = {}
        self.sums: dict = {}
        self.stop = False

    def notify(self, event: str) -> None:
        for callback in self.callbacks:
            getattr(callback, event)(self)

    def split(self, batch: mx.nd.NDArray) -> list:
        """`batch` (this worker's rows) split across the devices, one array each."""
        if len(self.ctxs) == 1:
            return [batch.as_in_context(self.ctxs[0])]
        return gluon.utils.split_and_load(batch, self.ctxs, even_split=False)

    def batch_ids(self, rows: mx.nd.NDArray) -> mx.nd.NDArray:
        """The token ids of this batch's `rows`, as wide as its length bucket."""
        return self.data.ids(rows, self.width)

    def parameters(self) -> dict:
        """Every parameter the run trains or keeps: the net's, then the step's (``step.``)."""
        return {**named_parameters(self.net),
                **{f"step.{k}": p for k, p in self.step.parameters().items()}}

    def snapshot(self) -> dict:
        return {name: p.data().copy() for name, p in self.parameters().items()}

    def restore(self, snapshot: dict, what: str = "snapshot") -> None:
        from ..io.checkpoint import CheckpointError

        params = self.parameters()
        if set(snapshot) != set(params):
            raise CheckpointError(f"{what}: its parameters do not match the network's")
        for name, p in params.items():
            if tuple(snapshot[name].shape) != tuple(p.shape):
                raise CheckpointError(f"{what}: {name} has shape {tuple(snapshot[name].shape)}"
                                      f", the network needs {tuple(p.shape)}")
            # fresh arrays rather than set_data: after inference oneDNN may hold a weight (a
            # 3-d conv kernel) in its own layout, and copying into that fails ("IsDefaultData")
            p._init_impl(snapshot[name], p.list_ctx())

    def trainer_names(self) -> dict:
        """Structural name -> MXNet name, for the parameters the trainer covers."""
        return {s: p.name for s, p in self.parameters().items()
                if p.name in self.trainer._param2idx}


def train_loop(net: gluon.Block, data: Data, step, callbacks=(), *, num_epochs: int = 10,  # noqa: PLR0913
               batch_size: int = 64, lr: float = 1e-3, weight_decay: float = 0.0,
               random_state: int | None = 0, ctx=None, kvstore="device",
               hybridize: bool = True, include_frozen: bool = False,
               drop_last: bool = False, length_buckets: int | None = None) -> History:
    """Train `net` on `data` with `step`, telling `callbacks` of every event; the history.

    `random_state` seeds the batch order and MXNet's generator (dropout, reseeded each
    epoch). `ctx` (a context or a list): each batch is split across the devices and the
    gradients summed; the parameters end where they started. `kvstore` ``"dist_sync"`` /
    ``"dist_async"``: each worker of a distributed run (see :mod:`transferlearn.cli.launch`)
    takes its share of every batch of `batch_size` rows. `include_frozen`: the trainer also
    covers frozen parameters, for callbacks that unfreeze them. `drop_last`: skip an
    epoch's last, partial batch (statistics such as a covariance are noise on a few rows).
    `length_buckets`: batches of rows of similar length, each cut to its bucket's width
    (see :class:`.buckets.LengthBuckets`; None: automatic, and off for a network that is not
    ``padding_invariant``; 0: off; never with `drop_last`).
    """
    ctxs = _contexts(ctx)
    home = _move_to(net, ctxs)
    if length_buckets is None and not getattr(net, "padding_invariant", True):
        length_buckets = 0  # cutting a batch would change what the network computes
    cluster = distributed.cluster(kvstore)
    loop = Loop(net, data, step, callbacks, ctxs=ctxs, cluster=cluster,
                rng=np.random.RandomState(random_state), lr=lr, batch_size=batch_size,
                num_epochs=num_epochs, drop_last=drop_last, length_buckets=length_buckets)
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=True)  # also drops stale cached graphs
    step.begin(loop)
    loop.trainer = make_trainer(net, lr=lr, weight_decay=weight_decay,
                                include_frozen=include_frozen, kvstore=cluster.kvstore,
                                extra=step.parameters())
    if distributed.is_distributed(cluster.kvstore):
        _sync_start(loop.trainer, batch_size)
    started = time.perf_counter()
    loop.notify("on_train_begin")  # a resuming checkpoint callback restores the state here
    while not loop.stop and loop.epoch < num_epochs:
        loop.epoch += 1
        if random_state is not None:
            # workers differ, so that their halves of a batch do not share dropout masks
            mx.random.seed(epoch_seed(random_state, loop.epoch) + 7919 * cluster.rank,
                           ctx="all")
        _run_epoch(loop)
    loop.notify("on_train_end")  # keep-best puts the best epoch's weights back here
    _move_to(net, home)
    loop.history.seconds = time.perf_counter() - started
    return loop.history


def _run_epoch(loop: Loop) -> None:
    """One pass over the data: the step on each batch, then the epoch's record."""
    loop.step.begin_epoch(loop)
    loop.notify("on_epoch_begin")
    tic = time.perf_counter()
    order = (loop.buckets.batches(loop.rng) if loop.buckets else
             _batches(len(loop.data), loop.batch_size, loop.rng, loop.drop_last))
    plan = _epoch_plan(order, loop.cluster, len(loop.ctxs),
                       loop.buckets.width if loop.buckets else None)
    loop.batches, loop.sums = len(plan), {}
    for loop.batch, (rows, global_size, loop.width) in enumerate(plan):
        loop.notify("on_batch_begin")
        _train_batch(loop, rows, global_size)
        loop.notify("on_batch_end")
    scale = 1.0 / max(1, sum(rows.shape[0] for rows, _, _ in plan))  # per row this worker saw
    loop.record = {"epoch": loop.epoch,
                   **{k: float(v.asscalar()) * scale for k, v in loop.sums.items()},
                   "seconds": time.perf_counter() - tic}
    loop.notify("on_epoch_end")
    loop.history.epochs.append(loop.record)


def _train_batch(loop: Loop, rows, global_size: int) -> None:
    """Forward and backward of the step on one batch, one optimizer update, and the sums."""
    with autograd.record():
        losses, sums = loop.step.losses(loop, rows)
    autograd.backward(losses)
    loop.steps += 1
    # dist_async updates on the servers, whose gradient scale is fixed at the first step
    loop.trainer.step(loop.batch_size if loop.cluster.is_async else global_size)
    home = loop.ctxs[0]
    for key, parts in sums.items():
        total = sum(p.sum().as_in_context(home) for p in parts)
        loop.sums[key] = loop.sums[key] + total if key in loop.sums else total


def _batches(n: int, batch_size: int, rng: np.random.RandomState | None,
             drop_last: bool = False):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    stop = n - batch_size + 1 if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield order[start:start + batch_size]


def _epoch_plan(order, cluster, n_ctx: int, width_of=None) -> list:
    """This epoch's batches (`order`: row-id arrays) as ``(row ids NDArray, global batch
    size, width)``: this worker's share of each batch, and the columns the batch needs
    (``width_of(row ids)``; None: all).

    The row ids of the whole epoch go to MXNet in one copy and each batch is a view of it:
    a host-to-NDArray copy per step costs a synchronisation (measured 4.5 ms of a 21 ms step
    of the ``mean`` model on 2 cores).
    """
    batches = [(part, len(idx), width_of(idx) if width_of else None) for idx in order
               if (part := batch_part(idx, cluster.rank, cluster.num_workers, n_ctx))
               is not None]
    if not batches:
        return []
    flat = mx.nd.array(np.concatenate([part for part, _, _ in batches]), dtype="int32")
    plan, start = [], 0
    for part, size, width in batches:
        plan.append((flat[start:start + len(part)], size, width))
        start += len(part)
    return plan


def batch_part(idx: np.ndarray, rank: int, num_workers: int, n_ctx: int):
    """This worker's rows of a global batch, or None when the batch is too small to split."""
    part = idx[rank::num_workers] if num_workers > 1 else idx
    if num_workers > 1 and len(idx) < num_workers * n_ctx:
        return None  # every worker must step together; only a last, tiny batch is dropped
    return part if len(part) >= n_ctx else None


def _sync_start(trainer, batch_size: int) -> None:
    """Initialise the distributed kvstore and wait for the weights' broadcast to land.

    Gluon does this lazily at the first step, where the engine may send that step's gradient
    push (same keys) before the broadcast's pull is answered; with ``update_on_kvstore=False``
    the server then holds gradients, and the workers would pull them as weights.
    """
    trainer._optimizer.rescale_grad = trainer._scale / batch_size  # as step() would set it
    trainer._init_kvstore()
    trainer._init_params()
    mx.nd.waitall()


def _move_to(net: gluon.Block, ctxs: list) -> list:
    """Put every parameter on `ctxs`; returns the contexts they were on before."""
    params = list(named_parameters(net).values())
    before = params[0].list_ctx() if params else ctxs
    if before != list(ctxs):
        net.collect_params().reset_ctx(ctxs)
    return before


def clone_state(net: gluon.Block) -> dict:
    """A deep copy of every parameter's value (for comparisons in tests and reports)."""
    return {name: p.data().asnumpy().copy() for name, p in named_parameters(net).items()}


__all__ = ["Data", "History", "Loop", "clone_state", "device_contexts",
           "make_trainer", "train_loop", "trainable_parameters"]
