"""Per-epoch training checkpoints, written atomically, for resuming a killed run.

A checkpoint is a directory ``epoch-NNNN`` holding

- ``model.params``: the weights after that epoch (MXNet's NDArray format, keyed by the
  structural names of :func:`~transferlearn.model.named_parameters`);
- ``best.params``: the best epoch's weights so far, when early stopping kept an older epoch;
- ``optimizer.params``: the optimizer's per-parameter state (Adam's moments);
- ``state.json``: epoch, step, history, early-stopping state, the batch-order generator's
  state, the optimizer's update counts, a fingerprint of the run's settings and data, and
  the sha256 of the three files above.

It is written to a hidden temp directory and renamed into place, so a directory named
``epoch-NNNN`` is always complete; a kill mid-write leaves only a temp directory, which the
next run removes. Nothing is unpickled when a checkpoint is read.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

import mxnet as mx
import numpy as np

from .errors import StorageError, TransferLearnError
from .persistence import file_sha256
from .storage import temp_dir, write_failure

STATE_FILE = "state.json"


class CheckpointError(TransferLearnError):
    """A checkpoint cannot be used to resume this run."""


def fingerprint(X: np.ndarray, y: np.ndarray, settings: dict) -> dict:
    """What must match for a checkpoint to be resumed: the settings and a digest of the data."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        digest.update(str((array.dtype, array.shape)).encode())
        digest.update(array.tobytes())
    return {**{k: _plain(v) for k, v in settings.items()}, "data_sha256": digest.hexdigest()}


def _plain(value):
    return value if isinstance(value, (int, float, str, bool, type(None))) else str(value)


def _epoch_dirs(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if p.is_dir() and p.name.startswith("epoch-")
             and p.name[6:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[6:]))


def optimizer_state(trainer, names: dict) -> tuple[dict, dict]:
    """The trainer's optimizer state as (arrays, json-able counts), keyed by structural name.

    `names` maps structural names to the trainer's MXNet parameter names.
    """
    updater = trainer._updaters[0]
    optimizer = trainer._optimizer
    index = {names[s]: s for s in names}
    arrays, counts, layout = {}, {}, {}
    for idx, state in updater.states.items():
        name = index.get(trainer._params[idx].name)
        if name is None:
            continue
        parts = state if isinstance(state, (list, tuple)) else [state]
        layout[name] = len(parts) if isinstance(state, (list, tuple)) else 0
        for j, part in enumerate(parts):
            if part is not None:
                arrays[f"{name}#{j}"] = part.copyto(mx.cpu())
        counts[name] = optimizer._index_update_count.get(idx, 0)
    return arrays, {"layout": layout, "update_count": counts,
                    "num_update": int(optimizer.num_update)}


def restore_optimizer_state(trainer, names: dict, arrays: dict, meta: dict) -> None:
    """Put saved optimizer state back into a freshly built trainer (every context's updater)."""
    optimizer = trainer._optimizer
    for name, n_parts in meta["layout"].items():
        if names.get(name) not in trainer._param2idx:
            raise CheckpointError(f"checkpoint has optimizer state for {name}, which this run "
                                  "does not train")
        idx = trainer._param2idx[names[name]]
        for updater, ctx in zip(trainer._updaters, trainer._contexts, strict=True):
            parts = [arrays[f"{name}#{j}"].as_in_context(ctx)
                     for j in range(max(1, n_parts))]
            updater.states[idx] = tuple(parts) if n_parts else parts[0]
            updater.states_synced[idx] = True
        optimizer._index_update_count[idx] = int(meta["update_count"][name])
    optimizer.num_update = int(meta["num_update"])


class Checkpointer:
    """Save and find the per-epoch checkpoints of one training run in `directory`.

    `fingerprint` (see :func:`fingerprint`) is stored with each checkpoint and compared on
    resume, so a checkpoint is never applied to a run with other settings or data.
    """

    def __init__(self, directory: str | os.PathLike, fingerprint: dict, keep: int = 1):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.keep = keep

    def save(self, state: dict, params: dict, best: dict | None, optimizer: tuple) -> Path:
        """Write one epoch's checkpoint atomically and drop older ones (keeping `keep`).

        A failed write (a full disk) removes the partial temp directory, leaves the older
        checkpoints as they were and raises :class:`StorageError` with one line.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"epoch-{state['epoch']:04d}"
        tmp = temp_dir(self.directory, ".epoch-tmp-")
        try:
            self._write(tmp, state, params, best, optimizer)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, (OSError, mx.base.MXNetError)):
                raise self._write_error(final, exc) from None
            raise
        for old in _epoch_dirs(self.directory)[:-self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def _write(self, tmp: Path, state: dict, params: dict, best: dict | None,
               optimizer: tuple) -> None:
        arrays, meta = optimizer
        files = {"model.params": params, "optimizer.params": arrays}
        if best is not None:
            files["best.params"] = best
        for name, content in files.items():
            mx.nd.save(str(tmp / name), content)
            mx.nd.load(str(tmp / name))  # MXNet misses some failed writes: read it back
        record = {**state, "optimizer": meta, "fingerprint": self.fingerprint,
                  "sha256": {name: file_sha256(tmp / name) for name in files}}
        with open(tmp / STATE_FILE, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())

    def _write_error(self, final: Path, exc: BaseException) -> StorageError:
        reason = write_failure(exc, final)
        kept = _epoch_dirs(self.directory)
        intact = (f"the previous checkpoint {kept[-1].name} is intact" if kept else
                  "no earlier checkpoint exists")
        return StorageError(f"cannot write checkpoint {final}: {reason}; {intact}")

    def latest(self) -> dict | None:
        """The newest complete checkpoint, checked and loaded, or None if there is none.

        Returns ``{"path", "state", "params", "best", "optimizer"}``. Raises
        :class:`CheckpointError` if it belongs to another run or a file is damaged.
        """
        self.clean()
        found = _epoch_dirs(self.directory)
        if not found:
            return None
        path = found[-1]
        state = self._read_state(path)
        self._check_fingerprint(path, state.get("fingerprint", {}))
        for name, digest in state.get("sha256", {}).items():
            if not (path / name).is_file() or file_sha256(path / name) != digest:
                raise CheckpointError(f"{path / name}: damaged (sha256 differs from "
                                      f"{STATE_FILE}); delete {path} to resume from an older "
                                      "checkpoint, or run without --resume")
        load = lambda name: mx.nd.load(str(path / name)) if (path / name).exists() else None  # noqa: E731
        return {"path": path, "state": state, "params": load("model.params"),
                "best": load("best.params"), "optimizer": load("optimizer.params") or {}}

    def _read_state(self, path: Path) -> dict:
        try:
            with open(path / STATE_FILE, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"{path / STATE_FILE}: unreadable ({exc}); delete {path} "
                                  "or run without --resume") from None

    def _check_fingerprint(self, path: Path, saved: dict) -> None:
        differ = [k for k in sorted(set(saved) | set(self.fingerprint))
                  if saved.get(k) != self.fingerprint.get(k)]
        if not differ:
            return
        what = ("the training data differs" if differ == ["data_sha256"] else
                ", ".join(f"{k} {saved.get(k)!r} there, {self.fingerprint.get(k)!r} here"
                          for k in differ if k != "data_sha256"))
        raise CheckpointError(f"cannot resume from {path}: it was written by a different run "
                              f"({what}); use the same settings, or run without --resume to "
                              "start over")

    def clean(self) -> None:
        """Remove temp directories left by a run killed while writing a checkpoint."""
        if self.directory.is_dir():
            for tmp in self.directory.glob(".epoch-tmp-*"):
                shutil.rmtree(tmp, ignore_errors=True)

    def clear(self) -> None:
        """Remove every checkpoint (after the final bundle has been written): the epoch
        directories and temp directories this class wrote, then the directory if empty."""
        for path in [*_epoch_dirs(self.directory), *self.directory.glob(".epoch-tmp-*")]:
            shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.directory.rmdir()


__all__ = ["CheckpointError", "Checkpointer", "fingerprint"]
