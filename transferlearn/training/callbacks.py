"""Callbacks: everything that cuts across training, told of the loop's events.

Each callback overrides the events it needs (see :mod:`.loop`) and runs in ``order``
(lower first), so that, at the end of an epoch, validation and keep-best come before the
progress line, the checkpoint and the user's own callback.

- :class:`Unfreeze`: calls ``epoch_start(net, epoch)`` before each epoch (gradual
  unfreezing, ULMFiT);
- :class:`Schedule`: the learning rate of each batch, ``lr * schedule(step, total_steps)``;
- :class:`KeepBest`: validation scores each epoch, the best epoch's weights kept and put
  back at the end, early stopping after `patience` epochs without improvement;
- :class:`Progress`: a bar that moves at the engine's real rate with the running loss, and
  one line per epoch;
- :class:`Checkpoint`: a checkpoint after every epoch and, with ``resume``, the newest one
  loaded before training; each callback saves and takes back its own part
  (:meth:`Callback.checkpoint_state`, :meth:`Callback.restore_state`);
- :class:`EpochEnd`: calls ``callback(net, record)`` after each epoch.
"""
from __future__ import annotations

import time

import numpy as np
from tqdm.auto import tqdm

from ..io.checkpoint import NO_BEST, on_cpu, optimizer_state, restore_optimizer_state
from ..log import logger
from .metrics import evaluate


class Callback:
    """Base class: every event does nothing. ``order`` sorts the callbacks of a loop."""

    order = 50

    def on_train_begin(self, loop) -> None: ...

    def on_epoch_begin(self, loop) -> None: ...

    def on_batch_begin(self, loop) -> None: ...

    def on_batch_end(self, loop) -> None: ...

    def on_epoch_end(self, loop) -> None: ...

    def on_train_end(self, loop) -> None: ...

    def replay(self, loop, epochs: int) -> None:
        """Resume: bring this callback's effect on the net to where it was after `epochs`."""

    def checkpoint_state(self, loop) -> tuple[dict, dict | None]:
        """What a checkpoint keeps of this callback: JSON values (merged into the checkpoint's
        state, so each callback uses keys of its own) and weights it holds apart from the
        net's (at most one callback of a loop: the checkpoint has one such slot), or None."""
        return {}, None

    def restore_state(self, state: dict, weights: dict | None, loop) -> None:
        """Resume: take back what :meth:`checkpoint_state` gave (`state` is the whole
        checkpoint's; `weights` its slot of kept weights)."""


class Unfreeze(Callback):
    """``epoch_start(net, epoch)`` before each epoch, e.g. to unfreeze a layer group."""

    order = 10

    def __init__(self, epoch_start):
        self.epoch_start = epoch_start

    def on_epoch_begin(self, loop) -> None:
        self.epoch_start(loop.net, loop.epoch)

    def replay(self, loop, epochs: int) -> None:  # the same groups train as before the kill
        for epoch in range(1, epochs + 1):
            self.epoch_start(loop.net, epoch)


class Schedule(Callback):
    """The learning rate of every batch: ``lr * schedule(step, total_steps)`` (e.g.
    :func:`slanted_triangular`); `total_steps` assumes every epoch runs."""

    order = 10

    def __init__(self, schedule):
        self.schedule = schedule

    def on_train_begin(self, loop) -> None:
        if loop.cluster.num_workers > 1 and loop.cluster.is_async:
            raise ValueError("a learning-rate schedule needs dist_sync (dist_async updates on "
                             "the servers, which keep the first rate)")

    def on_batch_begin(self, loop) -> None:
        loop.trainer.set_learning_rate(loop.lr * self.schedule(loop.steps, loop.total_steps))


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


class KeepBest(Callback):
    """Score (`X_val`, `y_val`) after each epoch (``val_accuracy``, ``val_roc_auc``,
    ``val_loss`` in the record), keep the weights of the best ``val_<monitor>`` (``loss``:
    the lowest), stop after `patience` epochs without improvement (None: never), and put the
    best weights back at the end. Without validation rows the last epoch is kept."""

    order = 20

    def __init__(self, X_val=None, y_val=None, monitor: str = "accuracy",
                 patience: int | None = 3):
        self.X_val, self.y_val = X_val, y_val
        self.monitor, self.patience = monitor, patience
        self.best_value, self.best_epoch, self.waited = -np.inf, None, 0
        self.best_state: dict | None = None

    @property
    def active(self) -> bool:
        return self.X_val is not None and self.y_val is not None and len(self.X_val) > 0

    def on_epoch_end(self, loop) -> None:
        if not self.active:
            return
        val = evaluate(loop.net, self.X_val, self.y_val, ctx=loop.ctxs[0])
        if loop.cluster.is_async:  # the servers' weights are pulled into these arrays, and
            loop.restore(loop.snapshot())  # copying into a oneDNN-layout array fails
        loop.record.update({f"val_{k}": v for k, v in val.items()})
        value = (-1.0 if self.monitor == "loss" else 1.0) * loop.record[f"val_{self.monitor}"]
        if value > self.best_value:
            self.best_value, self.best_epoch, self.waited = value, loop.epoch, 0
            self.best_state = loop.snapshot()
        else:
            self.waited += 1
        loop.history.best_epoch = self.best_epoch
        if self.patience is not None and self.waited >= self.patience:
            loop.stop = loop.history.stopped_early = True

    def on_train_end(self, loop) -> None:
        if self.best_state is not None:
            loop.restore(self.best_state)
        else:
            loop.history.best_epoch = len(loop.history.epochs)

    def checkpoint_state(self, loop) -> tuple[dict, dict | None]:
        values = {"best_value": self.best_value, "best_epoch": self.best_epoch,
                  "waited": self.waited}
        # the best weights go in too when the best epoch is an older one
        older = self.best_epoch not in (None, loop.epoch)
        return values, self.best_state if older else None

    def restore_state(self, state: dict, best: dict | None, loop) -> None:
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]
        self.waited = state["waited"]
        loop.history.best_epoch = self.best_epoch
        # the best epoch is the last one when the checkpoint holds no older best weights
        self.best_state = best if best is not None else (
            loop.snapshot() if self.best_epoch is not None else None)
        if self.active and self.patience is not None and self.waited >= self.patience:
            loop.stop = loop.history.stopped_early = True  # it had stopped before the kill


class Progress(Callback):
    """A bar per epoch that moves at the real rate, and one line per finished epoch.

    MXNet queues work and returns at once, so a bar counting queued batches runs ahead and
    then stands still; this one waits for the engine every `sync_every` batches (reading the
    running loss) and so shows the true rate and loss. No bar when output is not a terminal
    (tqdm's ``disable=None``); the epoch lines always start their own line.
    """

    order = 80

    def __init__(self, desc: str = "", sync_every: int = 8, extra: tuple = ()):
        self.desc, self.sync_every, self.extra = desc, sync_every, extra
        self.bar = None

    def on_epoch_begin(self, loop) -> None:
        label = f"epoch {loop.epoch}/{loop.num_epochs}" + (f" ({self.desc})" if self.desc
                                                            else "")
        self.bar = tqdm(total=None, desc=label, leave=False, disable=None, unit="batch")
        self.done = 0

    def on_batch_end(self, loop) -> None:
        if self.bar is None or self.bar.disable:
            return
        if (loop.batch + 1) % self.sync_every == 0 or loop.batch + 1 == loop.batches:
            if self.bar.total is None:
                self.bar.reset(total=loop.batches)
            seen = (loop.batch + 1) * loop.batch_size / loop.cluster.num_workers
            loss = loop.sums["train_loss"].asscalar() / max(1.0, seen)  # waits for the engine
            self.bar.update(loop.batch + 1 - self.done)
            self.done = loop.batch + 1
            self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def on_epoch_end(self, loop) -> None:
        if self.bar is not None:
            self.bar.close()
        logger.info(epoch_line(loop.record, self.extra))


def epoch_line(record: dict, extra: tuple = ()) -> str:
    parts = [f"epoch {record['epoch']:>3}", f"loss {record['train_loss']:.4f}"]
    if "val_accuracy" in record:
        parts += [f"val_acc {record['val_accuracy']:.4f}", f"val_auc {record['val_roc_auc']:.4f}"]
    parts += [f"{key} {record[key]:.4f}" for key in extra if key in record]
    parts.append(f"{record['seconds']:.1f}s")
    return "  ".join(parts)


class Checkpoint(Callback):
    """A checkpoint at the end of an epoch (rank 0) through `checkpointer` (see
    :class:`~transferlearn.io.checkpoint.Checkpointer`); with `resume`, the newest one is
    loaded first and the run continues where it stopped, with the same result as an
    uninterrupted run of the same seed.

    Checkpoints take at most about 1/`budget` of the run: after a save that took ``d`` over
    `min_spaced` seconds, the next waits for the first epoch that ends ``budget * d`` seconds
    later; quicker saves are made after every epoch. A small network saves after each; the
    IMDB n-gram bag (430k x 64 table and Adam's two moments, about 1 s a save, 2 s epochs)
    every fifth or so, where saving after each took 5.4 of its 15 s of training. A killed
    run loses the epochs since the last save, no more.
    """

    order = 90

    def __init__(self, checkpointer, resume: bool = False, verbose: bool = True,
                 budget: float = 10.0, min_spaced: float = 0.5):
        self.checkpointer, self.resume, self.verbose = checkpointer, resume, verbose
        self.budget, self.min_spaced = budget, min_spaced
        self._due = 0.0  # perf_counter time from which the next save is made

    def on_train_begin(self, loop) -> None:
        if not self.resume:
            return
        saved = self.checkpointer.latest()
        if saved is None:
            self._say(f"no checkpoint in {self.checkpointer.directory}: starting from epoch 1")
            return
        state = saved["state"]
        name, keys, pos, has_gauss, cached = state["rng"]
        loop.rng.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
        loop.epoch, loop.steps = state["epoch"], state["step"]
        loop.history.epochs = list(state["history"])
        for callback in loop.callbacks:
            callback.replay(loop, loop.epoch)
        loop.restore(saved["params"], what=str(saved["path"]))
        restore_optimizer_state(loop.trainer, loop.trainer_names(), saved["optimizer"],
                                state["optimizer"])
        for callback in loop.callbacks:
            callback.restore_state(state, saved["best"], loop)
        self._say(f"resuming from {saved['path']} (epoch {loop.epoch} done)")

    def on_epoch_end(self, loop) -> None:
        if loop.cluster.rank != 0 or time.perf_counter() < self._due:
            return
        started = time.perf_counter()
        self._save(loop)
        took = time.perf_counter() - started
        if took > self.min_spaced:  # a quick save is made after every epoch
            self._due = time.perf_counter() + self.budget * took

    def _save(self, loop) -> None:
        kept, best = dict(NO_BEST), None  # the format's keys, for a run with no keep-best
        for callback in loop.callbacks:
            values, weights = callback.checkpoint_state(loop)
            kept.update(values)
            if weights is not None:
                if best is not None:
                    raise ValueError("two callbacks give weights to keep in one checkpoint")
                best = weights
        name, keys, pos, has_gauss, cached = loop.rng.get_state(legacy=True)
        state = {"epoch": loop.epoch, "step": loop.steps, **kept,
                 "history": [*loop.history.epochs, loop.record],
                 "rng": [name, np.asarray(keys).tolist(), int(pos), int(has_gauss),
                         float(cached)]}
        params = {k: on_cpu(p.data()) for k, p in loop.parameters().items()}
        self.checkpointer.save(state, params, best,
                               optimizer_state(loop.trainer, loop.trainer_names()))

    def _say(self, message: str) -> None:
        if self.verbose:
            logger.info(message)


class EpochEnd(Callback):
    """``callback(net, record)`` after each epoch (the record is complete by then)."""

    order = 95

    def __init__(self, callback):
        self.callback = callback

    def on_epoch_end(self, loop) -> None:
        self.callback(loop.net, loop.record)


__all__ = ["Callback", "Checkpoint", "EpochEnd", "KeepBest", "Progress", "Schedule",
           "Unfreeze", "epoch_line", "slanted_triangular"]
