"""Training loop: ``fit`` / ``evaluate`` / ``predict_proba`` over mini-batches.

``fit`` trains with Adam on the parameters whose ``grad_req`` is not ``'null'`` (so frozen
layers stay bit-identical), measures validation accuracy and ROC AUC after each epoch, keeps
the best epoch's weights, stops early when validation stops improving, and returns a
:class:`History`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from sklearn.metrics import roc_auc_score
from tqdm.auto import tqdm

from . import distributed
from .checkpoint import CheckpointError, optimizer_state, restore_optimizer_state
from .model import named_parameters


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


def trainable_parameters(net: gluon.Block) -> dict:
    """Parameters that training will update, keyed by structural name."""
    return {name: p for name, p in named_parameters(net).items() if p.grad_req != "null"}


def make_trainer(net: gluon.Block, lr: float = 1e-3, weight_decay: float = 0.0,
                 optimizer: str = "adam", kvstore="device",
                 include_frozen: bool = False) -> gluon.Trainer:
    """A Trainer over the currently trainable parameters (rebuild it after (un)freezing).

    Each parameter's ``lr_mult`` scales its learning rate (discriminative rates). With
    `include_frozen`, frozen parameters are included too: the Trainer skips them while their
    ``grad_req`` is ``"null"`` and updates them once unfrozen (gradual unfreezing), without
    losing the optimizer state of the others.
    """
    params = named_parameters(net) if include_frozen else trainable_parameters(net)
    if not params:
        raise ValueError("no trainable parameters: every layer is frozen")
    kind = kvstore if isinstance(kvstore, str) else getattr(kvstore, "type", "")
    # dist_sync: workers sum gradients through the servers and each updates its own copy, so
    # learning-rate changes and checkpoints stay local; dist_async must update on the servers
    update_on_kvstore = False if "dist" in kind and "async" not in kind else None
    return gluon.Trainer(
        {p.name: p for p in params.values()}, optimizer,
        {"learning_rate": lr, "wd": weight_decay}, kvstore=kvstore,
        update_on_kvstore=update_on_kvstore,
    )


def slanted_triangular(cut_frac: float = 0.1, ratio: float = 32.0):
    """The slanted triangular learning-rate schedule of ULMFiT (Howard & Ruder 2018).

    The factor rises linearly from ``1/ratio`` to 1 over the first `cut_frac` of the steps,
    then falls linearly back to ``1/ratio`` at the end.

    Examples
    --------
    >>> f = slanted_triangular(0.1, 32)
    >>> [round(f(t, 100), 3) for t in (0, 10, 55, 100)]
    [0.031, 1.0, 0.516, 0.031]
    """
    def factor(step: int, total: int) -> float:
        cut = max(1, int(total * cut_frac))
        if step < cut:
            p = step / cut
        else:
            p = 1.0 - (step - cut) / max(1.0, cut * (1.0 / cut_frac - 1.0))
        return (1.0 + max(0.0, p) * (ratio - 1.0)) / ratio

    return factor


def _batches(n: int, batch_size: int, rng: np.random.RandomState | None):
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def predict_logits(net: gluon.Block, X: np.ndarray, batch_size: int = 512, ctx=None) -> np.ndarray:
    """Raw outputs for every row of `X`, batched, with one host copy at the end."""
    ctx = ctx or mx.cpu()
    if len(X) == 0:
        return np.zeros((0, net.config["num_classes"]), dtype=np.float32)
    X_nd = mx.nd.array(X, dtype="int32", ctx=ctx)
    outs = [net(X_nd[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    return mx.nd.concat(*outs, dim=0).asnumpy()


def predict_proba(net: gluon.Block, X: np.ndarray, batch_size: int = 512, ctx=None) -> np.ndarray:
    """Class probabilities, shape ``(n_rows, num_classes)``."""
    logits = predict_logits(net, X, batch_size, ctx)
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def scores(y: np.ndarray, proba: np.ndarray) -> dict:
    """Accuracy and ROC AUC (one-vs-rest macro for more than two classes)."""
    y = np.asarray(y)
    result = {"accuracy": float((proba.argmax(axis=1) == y).mean()) if len(y) else float("nan")}
    present = np.unique(y)
    if len(present) < 2:
        result["roc_auc"] = float("nan")
    elif proba.shape[1] == 2:
        result["roc_auc"] = float(roc_auc_score(y, proba[:, 1]))
    else:
        result["roc_auc"] = float(roc_auc_score(y, proba[:, present], multi_class="ovr",
                                                labels=present))
    return result


def evaluate(net: gluon.Block, X: np.ndarray, y: np.ndarray, batch_size: int = 512,
             ctx=None) -> dict:
    """Accuracy, ROC AUC and mean cross-entropy on (X, y)."""
    proba = predict_proba(net, X, batch_size, ctx)
    result = scores(y, proba)
    picked = proba[np.arange(len(y)), np.asarray(y, dtype=int)]
    result["loss"] = float(-np.log(np.clip(picked, 1e-12, None)).mean()) if len(y) else 0.0
    return result


def _snapshot(net: gluon.Block) -> dict:
    return {name: p.data().copy() for name, p in named_parameters(net).items()}


def _restore(net: gluon.Block, snapshot: dict, what: str = "snapshot") -> None:
    params = named_parameters(net)
    if set(snapshot) != set(params):
        raise CheckpointError(f"{what}: its parameters do not match the network's")
    for name, p in params.items():
        if tuple(snapshot[name].shape) != tuple(p.shape):
            raise CheckpointError(f"{what}: {name} has shape {tuple(snapshot[name].shape)}, "
                                  f"the network needs {tuple(p.shape)}")
        # fresh arrays rather than set_data: after inference oneDNN may hold a weight (e.g. a
        # 3-d conv kernel) in its own layout, and copying into that fails ("IsDefaultData")
        p._init_impl(snapshot[name], p.list_ctx())


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
        from .errors import TransferLearnError

        raise TransferLearnError(
            f"--gpus {','.join(map(str, gpus))}: GPU {missing[0]} is not available (this "
            f"MXNet build sees {available} GPU(s); the pip 'mxnet' wheel is CPU-only, GPUs "
            "need an 'mxnet-cu*' wheel matching your CUDA)")
    return [mx.gpu(g) for g in gpus]


def _contexts(ctx) -> list:
    if ctx is None:
        return [mx.cpu()]
    return list(ctx) if isinstance(ctx, (list, tuple)) else [ctx]


def _epoch_seed(random_state: int, epoch: int) -> int:
    """MXNet's generator is reseeded each epoch, so a resumed run draws the same dropout."""
    return int(random_state) + 100_003 * (epoch - 1)


@dataclass
class _Run:
    """What changes while `fit` runs; saved in checkpoints and restored on resume."""

    epoch: int = 0
    step: int = 0
    best_value: float = -np.inf
    best_epoch: int | None = None
    waited: int = 0
    epochs: list = field(default_factory=list)

    def to_dict(self, rng: np.random.RandomState) -> dict:
        name, keys, pos, has_gauss, cached = rng.get_state(legacy=True)  # type: ignore[misc]
        keys = np.asarray(keys)
        return {"epoch": self.epoch, "step": self.step, "best_value": self.best_value,
                "best_epoch": self.best_epoch, "waited": self.waited, "history": self.epochs,
                "rng": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]}

    @classmethod
    def from_dict(cls, state: dict, rng: np.random.RandomState) -> _Run:
        name, keys, pos, has_gauss, cached = state["rng"]
        rng.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
        return cls(state["epoch"], state["step"], state["best_value"], state["best_epoch"],
                   state["waited"], list(state["history"]))


def _trainer_names(net, trainer) -> dict:
    """Structural name -> MXNet name, for the parameters `trainer` covers."""
    return {s: p.name for s, p in named_parameters(net).items() if p.name in trainer._param2idx}


def _save_checkpoint(checkpointer, run, rng, net, trainer, best_state) -> None:
    params = {name: p.data().copyto(mx.cpu()) for name, p in named_parameters(net).items()}
    best = best_state if run.best_epoch not in (None, run.epoch) else None
    checkpointer.save(run.to_dict(rng), params, best,
                      optimizer_state(trainer, _trainer_names(net, trainer)))


def _resume(checkpointer, rng, net, trainer, epoch_start, verbose):
    """Load the newest checkpoint into `net` and `trainer`; returns (run, best_state)."""
    saved = checkpointer.latest()
    if saved is None:
        if verbose:
            tqdm.write(f"no checkpoint in {checkpointer.directory}: starting from epoch 1")
        return _Run(), None
    run = _Run.from_dict(saved["state"], rng)
    if epoch_start is not None:  # replay unfreezing so the same groups train as before
        for epoch in range(1, run.epoch + 1):
            epoch_start(net, epoch)
    _restore(net, saved["params"], what=str(saved["path"]))
    restore_optimizer_state(trainer, _trainer_names(net, trainer), saved["optimizer"],
                            saved["state"]["optimizer"])
    best = saved["best"]
    if best is None and run.best_epoch is not None:
        best = _snapshot(net)
    if verbose:
        tqdm.write(f"resuming from {saved['path']} (epoch {run.epoch} done)")
    return run, best


def _epoch_plan(n: int, batch_size: int, rng, cluster, n_ctx: int) -> list:
    """This epoch's batches as ``(row ids NDArray, global batch size)`` pairs.

    The row ids of the whole epoch go to MXNet in one copy and each batch is a view of it:
    a host-to-NDArray copy per step costs a synchronisation (measured 4.5 ms of a 21 ms step
    of the ``mean`` model on 2 cores).
    """
    batches = [(part, len(idx)) for idx in _batches(n, batch_size, rng)
               if (part := _batch_parts(idx, cluster.rank, cluster.num_workers, n_ctx))
               is not None]
    if not batches:
        return []
    flat = mx.nd.array(np.concatenate([part for part, _ in batches]), dtype="int32")
    plan, start = [], 0
    for part, size in batches:
        plan.append((flat[start:start + len(part)], size))
        start += len(part)
    return plan


def _batch_parts(idx: np.ndarray, rank: int, num_workers: int, n_ctx: int):
    """This worker's rows of a global batch, or None when the batch is too small to split."""
    part = idx[rank::num_workers] if num_workers > 1 else idx
    if num_workers > 1 and len(idx) < num_workers * n_ctx:
        return None  # every worker must step together; only a last, tiny batch is dropped
    return part if len(part) >= n_ctx else None


def fit(net: gluon.Block, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None,  # noqa: C901, PLR0913, PLR0915
        y_val: np.ndarray | None = None, *, num_epochs: int = 10, batch_size: int = 64,
        lr: float = 1e-3, weight_decay: float = 0.0, patience: int | None = 3,
        monitor: str = "accuracy", random_state: int | None = 0, ctx=None,
        kvstore="device", hybridize: bool = True, verbose: bool = True, epoch_callback=None,
        epoch_start=None, lr_schedule=None, checkpoint=None, resume: bool = False,
        soft_targets: np.ndarray | None = None, temperature: float = 2.0,
        alpha: float = 0.5) -> History:
    """Train `net` on int ids `X` (n, seq_len) and class indices `y` (n,).

    Parameters
    ----------
    X_val, y_val : optional
        Validation rows; with them each epoch is scored, the best epoch's weights are kept
        (restored at the end) and training stops after `patience` epochs without improvement.
    monitor : {"accuracy", "roc_auc", "loss"}
        Validation figure that decides the best epoch.
    random_state : int, optional
        Seeds the batch order and MXNet's generator (dropout, reseeded each epoch), for
        repeatable runs.
    ctx : Context or list of Context, optional
        Devices to train on (default CPU). With several, each batch is split across them
        (``split_and_load``) and the gradients are summed; the parameters end on the first.
    kvstore : str or KVStore
        ``"device"`` (one machine), or ``"dist_sync"`` / ``"dist_async"`` (several processes
        started by :mod:`transferlearn.launch`): each worker takes its share of every batch
        of `batch_size` rows (the global batch) and the gradients are combined.
    epoch_callback : callable, optional
        Called as ``epoch_callback(net, record)`` after each epoch.
    epoch_start : callable, optional
        Called as ``epoch_start(net, epoch)`` before each epoch, e.g. to unfreeze a layer
        group (gradual unfreezing). The Trainer then covers frozen parameters as well.
    lr_schedule : callable, optional
        ``lr_schedule(step, total_steps)`` -> factor on `lr` for each batch (e.g.
        :func:`slanted_triangular`); `total_steps` assumes every epoch runs.
    checkpoint : Checkpointer, optional
        Writes a checkpoint after every epoch (see :mod:`transferlearn.checkpoint`).
    resume : bool
        Continue from `checkpoint`'s newest checkpoint; the result equals an uninterrupted
        run with the same seed.
    soft_targets : ndarray, optional
        A teacher's logits ``(n, num_classes)`` for knowledge distillation (Hinton et al.
        2015): the loss is ``alpha * T^2 * CE(softmax(teacher / T), softmax(net / T)) +
        (1 - alpha) * CE(y, net)`` with ``T = temperature``.

    Returns
    -------
    History
    """
    ctxs = _contexts(ctx)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if len(X) == 0:
        raise ValueError("no training rows")
    home = _move_to(net, ctxs)
    cluster = distributed.cluster(kvstore)
    if cluster.num_workers > 1 and lr_schedule is not None and cluster.is_async:
        raise ValueError("a learning-rate schedule needs dist_sync (dist_async updates on the "
                         "servers, which keep the first rate)")
    rng = np.random.RandomState(random_state)
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=True)  # also drops stale cached graphs
    trainer = make_trainer(net, lr=lr, weight_decay=weight_decay,
                           include_frozen=epoch_start is not None, kvstore=cluster.kvstore)
    if distributed.is_distributed(cluster.kvstore):
        _sync_start(trainer, batch_size)
    run, best_state = (_resume(checkpoint, rng, net, trainer, epoch_start, verbose)
                       if resume and checkpoint is not None else (_Run(), None))
    total_steps = num_epochs * -(-len(X) // batch_size)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    X_nd = mx.nd.array(X, dtype="int32")
    y_nd = mx.nd.array(y, dtype="float32")
    if soft_targets is not None:
        if len(soft_targets) != len(X):
            raise ValueError(f"soft_targets has {len(soft_targets)} rows but X has {len(X)}")
        q_nd = mx.nd.softmax(mx.nd.array(soft_targets, dtype="float32") / temperature)
        loss_fn = _distillation_loss(temperature, alpha)
    validate = X_val is not None and y_val is not None and len(X_val) > 0
    history = History(epochs=run.epochs, best_epoch=run.best_epoch)
    started = time.perf_counter()
    stop = validate and patience is not None and run.epochs and run.waited >= patience
    for epoch in range(run.epoch + 1, 0 if stop else num_epochs + 1):
        if random_state is not None:
            # workers differ, so that their halves of a batch do not share dropout masks
            mx.random.seed(_epoch_seed(random_state, epoch) + 7919 * cluster.rank, ctx="all")
        if epoch_start is not None:
            epoch_start(net, epoch)
        tic = time.perf_counter()
        total_loss = mx.nd.zeros((1,), ctx=ctxs[0])
        plan = _epoch_plan(len(X), batch_size, rng, cluster, len(ctxs))
        for rows, global_size in tqdm(plan, leave=False, desc=f"epoch {epoch}/{num_epochs}",
                                      disable=not verbose, unit="batch"):
            xs = _split(X_nd.take(rows), ctxs)  # each (batch / n_ctx, seq_len)
            ys = _split(y_nd.take(rows), ctxs)
            if soft_targets is not None:  # (labels, teacher probabilities) pairs
                ys = list(zip(ys, _split(q_nd.take(rows), ctxs), strict=True))
            with autograd.record():
                losses = [loss_fn(net(X_b), y_b) for X_b, y_b in zip(xs, ys, strict=True)]
            autograd.backward(losses)
            if lr_schedule is not None:
                trainer.set_learning_rate(lr * lr_schedule(run.step, total_steps))
            run.step += 1
            # dist_async updates on the servers, whose gradient scale is fixed at the first step
            trainer.step(batch_size if cluster.is_async else global_size)
            for loss in losses:
                total_loss += loss.sum().as_in_context(ctxs[0])
        record = {"epoch": epoch, "train_loss": float(total_loss.asscalar()) * cluster.num_workers
                  / len(X), "seconds": time.perf_counter() - tic}
        if validate:
            val = evaluate(net, X_val, y_val, ctx=ctxs[0])  # type: ignore[arg-type]
            if cluster.is_async:  # the servers' weights are pulled into these arrays, and
                _restore(net, _snapshot(net))  # copying into a oneDNN-layout array fails
            record.update({f"val_{k}": v for k, v in val.items()})
            best_state = _track_best(net, record, run, monitor) or best_state
            history.best_epoch = run.best_epoch
        run.epoch = epoch
        history.epochs.append(record)
        if verbose:
            tqdm.write(_epoch_line(record))
        if checkpoint is not None and cluster.rank == 0:
            _save_checkpoint(checkpoint, run, rng, net, trainer, best_state)
        if epoch_callback is not None:
            epoch_callback(net, record)
        if validate and patience is not None and run.waited >= patience:
            history.stopped_early = True
            break
    history.stopped_early = history.stopped_early or bool(stop)
    _keep_best(net, history, best_state)
    _move_to(net, home)
    history.seconds = time.perf_counter() - started
    return history


def _track_best(net, record: dict, run: _Run, monitor: str):
    """Early-stopping bookkeeping for one validated epoch `record`: a snapshot of the weights
    when its ``val_<monitor>`` is the best so far (``loss``: the lowest), else None."""
    value = (-1.0 if monitor == "loss" else 1.0) * record[f"val_{monitor}"]
    if value > run.best_value:
        run.best_value, run.best_epoch, run.waited = value, record["epoch"], 0
        return _snapshot(net)
    run.waited += 1
    return None


def _keep_best(net, history: History, best_state: dict | None) -> None:
    """End of training: back to the best epoch's weights, or keep the last epoch's."""
    if best_state is not None:
        _restore(net, best_state)
    else:
        history.best_epoch = len(history.epochs)


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


def _distillation_loss(temperature: float, alpha: float):
    """Loss on (logits, (labels, teacher probabilities at `temperature`)), per row."""
    hard_loss = gluon.loss.SoftmaxCrossEntropyLoss()

    def loss(y_hat, target):
        y, q = target
        log_p = mx.nd.log_softmax(y_hat / temperature, axis=1)  # (batch, num_classes)
        soft = -(q * log_p).sum(axis=1) * temperature ** 2
        return alpha * soft + (1.0 - alpha) * hard_loss(y_hat, y)

    return loss


def _split(batch: mx.nd.NDArray, ctxs: list) -> list:
    if len(ctxs) == 1:
        return [batch.as_in_context(ctxs[0])]
    return gluon.utils.split_and_load(batch, ctxs, even_split=False)


def _move_to(net: gluon.Block, ctxs: list) -> list:
    """Put every parameter on `ctxs`; returns the contexts they were on before."""
    params = list(named_parameters(net).values())
    before = params[0].list_ctx() if params else ctxs
    if before != list(ctxs):
        net.collect_params().reset_ctx(ctxs)
    return before


def _epoch_line(record: dict) -> str:
    parts = [f"epoch {record['epoch']:>3}", f"loss {record['train_loss']:.4f}"]
    if "val_accuracy" in record:
        parts += [f"val_acc {record['val_accuracy']:.4f}", f"val_auc {record['val_roc_auc']:.4f}"]
    parts.append(f"{record['seconds']:.1f}s")
    return "  ".join(parts)


def clone_state(net: gluon.Block) -> dict:
    """A deep copy of every parameter's value (for comparisons in tests and reports)."""
    return {name: p.data().asnumpy().copy() for name, p in named_parameters(net).items()}


__all__ = ["History", "clone_state", "device_contexts", "evaluate", "fit", "make_trainer",
           "predict_logits", "predict_proba", "scores", "trainable_parameters"]
