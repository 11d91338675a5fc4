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
    return gluon.Trainer(
        {p.name: p for p in params.values()}, optimizer,
        {"learning_rate": lr, "wd": weight_decay}, kvstore=kvstore,
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


def _restore(net: gluon.Block, snapshot: dict) -> None:
    for name, p in named_parameters(net).items():
        p.set_data(snapshot[name])


def fit(net: gluon.Block, X: np.ndarray, y: np.ndarray, X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None, *, num_epochs: int = 10, batch_size: int = 64,
        lr: float = 1e-3, weight_decay: float = 0.0, patience: int | None = 3,
        monitor: str = "accuracy", random_state: int | None = 0, ctx=None,
        hybridize: bool = True, verbose: bool = True, epoch_callback=None,
        epoch_start=None, lr_schedule=None) -> History:
    """Train `net` on int ids `X` (n, seq_len) and class indices `y` (n,).

    Parameters
    ----------
    X_val, y_val : optional
        Validation rows; with them each epoch is scored, the best epoch's weights are kept
        (restored at the end) and training stops after `patience` epochs without improvement.
    monitor : {"accuracy", "roc_auc", "loss"}
        Validation figure that decides the best epoch.
    random_state : int, optional
        Seeds the batch order and MXNet's generator (dropout), for repeatable runs.
    epoch_callback : callable, optional
        Called as ``epoch_callback(net, record)`` after each epoch (e.g. to checkpoint).
    epoch_start : callable, optional
        Called as ``epoch_start(net, epoch)`` before each epoch, e.g. to unfreeze a layer
        group (gradual unfreezing). The Trainer then covers frozen parameters as well.
    lr_schedule : callable, optional
        ``lr_schedule(step, total_steps)`` -> factor on `lr` for each batch (e.g.
        :func:`slanted_triangular`); `total_steps` assumes every epoch runs.

    Returns
    -------
    History
    """
    ctx = ctx or mx.cpu()
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if len(X) == 0:
        raise ValueError("no training rows")
    rng = np.random.RandomState(random_state)
    if random_state is not None:
        mx.random.seed(int(random_state), ctx="all")
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=True)  # also drops stale cached graphs
    trainer = make_trainer(net, lr=lr, weight_decay=weight_decay,
                           include_frozen=epoch_start is not None)
    step, total_steps = 0, num_epochs * -(-len(X) // batch_size)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    X_nd = mx.nd.array(X, dtype="int32", ctx=ctx)
    y_nd = mx.nd.array(y, dtype="float32", ctx=ctx)
    validate = X_val is not None and y_val is not None and len(X_val) > 0
    sign = -1.0 if monitor == "loss" else 1.0
    history, best_value, best_state, waited = History(), -np.inf, None, 0
    started = time.perf_counter()
    for epoch in range(1, num_epochs + 1):
        if epoch_start is not None:
            epoch_start(net, epoch)
        tic = time.perf_counter()
        total_loss = mx.nd.zeros((1,), ctx=ctx)
        batches = list(_batches(len(X), batch_size, rng))
        for idx in tqdm(batches, desc=f"epoch {epoch}/{num_epochs}", leave=False,
                        disable=not verbose, unit="batch"):
            idx_nd = mx.nd.array(idx, dtype="int32", ctx=ctx)
            X_b, y_b = X_nd.take(idx_nd), y_nd.take(idx_nd)  # (batch, seq_len), (batch,)
            with autograd.record():
                y_hat = net(X_b)  # (batch, num_classes)
                loss = loss_fn(y_hat, y_b)
            loss.backward()
            if lr_schedule is not None:
                trainer.set_learning_rate(lr * lr_schedule(step, total_steps))
            step += 1
            trainer.step(len(idx))
            total_loss += loss.sum()
        record = {"epoch": epoch, "train_loss": float(total_loss.asscalar()) / len(X),
                  "seconds": time.perf_counter() - tic}
        if validate:
            val = evaluate(net, X_val, y_val, ctx=ctx)
            record.update({f"val_{k}": v for k, v in val.items()})
            value = sign * record[f"val_{monitor}"]
            if value > best_value:
                best_value, best_state, waited = value, _snapshot(net), 0
                history.best_epoch = epoch
            else:
                waited += 1
        history.epochs.append(record)
        if verbose:
            tqdm.write(_epoch_line(record))
        if epoch_callback is not None:
            epoch_callback(net, record)
        if validate and patience is not None and waited >= patience:
            history.stopped_early = True
            break
    if best_state is not None:
        _restore(net, best_state)
    else:
        history.best_epoch = len(history.epochs)
    history.seconds = time.perf_counter() - started
    return history


def _epoch_line(record: dict) -> str:
    parts = [f"epoch {record['epoch']:>3}", f"loss {record['train_loss']:.4f}"]
    if "val_accuracy" in record:
        parts += [f"val_acc {record['val_accuracy']:.4f}", f"val_auc {record['val_roc_auc']:.4f}"]
    parts.append(f"{record['seconds']:.1f}s")
    return "  ".join(parts)


def clone_state(net: gluon.Block) -> dict:
    """A deep copy of every parameter's value (for comparisons in tests and reports)."""
    return {name: p.data().asnumpy().copy() for name, p in named_parameters(net).items()}


__all__ = ["History", "clone_state", "evaluate", "fit", "make_trainer", "predict_logits",
           "predict_proba", "scores", "trainable_parameters"]
