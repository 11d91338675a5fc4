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

from ..errors import StorageError, TransferLearnError, last_line
from .manifest import record_files
from .storage import file_sha256, temp_dir, write_failure

STATE_FILE = "state.json"
# state.json's keep-best keys, with their values when no callback keeps a best epoch (a
# callback that does writes its own: training.callbacks.KeepBest)
NO_BEST = {"best_value": float("-inf"), "best_epoch": None, "waited": 0}


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


def on_cpu(array: mx.nd.NDArray) -> mx.nd.NDArray:
    """`array` for saving: itself when on the CPU (``nd.save`` waits for pending writes and
    reads it then; a copy of the IMDB n-gram bag's Adam state was 214 MB more at every
    checkpoint), else a copy on the CPU."""
    return array if array.context.device_type == "cpu" else array.copyto(mx.cpu())


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
                arrays[f"{name}#{j}"] = on_cpu(part)
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
        missing = [f"{name}#{j}" for j in range(max(1, n_parts)) if f"{name}#{j}" not in arrays]
        if missing:
            raise CheckpointError(f"checkpoint optimizer state lacks {missing[0]}; delete the "
                                  "checkpoint or run without --resume")
        shape = tuple(trainer._params[idx].shape)
        wrong = [k for k in (f"{name}#{j}" for j in range(max(1, n_parts)))
                 if tuple(arrays[k].shape) != shape]
        if wrong:
            raise CheckpointError(f"checkpoint optimizer state {wrong[0]} has shape "
                                  f"{tuple(arrays[wrong[0]].shape)}, the parameter {shape}; "
                                  "delete the checkpoint or run without --resume")
        for updater, ctx in zip(trainer._updaters, trainer._contexts, strict=True):
            parts = [arrays[f"{name}#{j}"].as_in_context(ctx)
                     for j in range(max(1, n_parts))]
            updater.states[idx] = tuple(parts) if n_parts else parts[0]
            updater.states_synced[idx] = True
        optimizer._index_update_count[idx] = int(meta["update_count"][name])
    optimizer.num_update = int(meta["num_update"])


MAX_STATE_BYTES = 64 << 20


def _load_arrays(file: Path) -> dict | None:
    """An NDArray dict file of a checkpoint (None if absent); a damaged one is one line."""
    if not file.exists():
        return None
    try:
        arrays = mx.nd.load(str(file))
    except mx.base.MXNetError as exc:
        raise CheckpointError(f"{file}: cannot be read ({last_line(exc)}); delete "
                              f"{file.parent} or run without --resume") from None
    if not isinstance(arrays, dict):
        raise CheckpointError(f"{file}: not a named array file; delete {file.parent} or run "
                              "without --resume")
    return arrays


def _fail(what: str):
    raise ValueError(what)


def _is_int(value, low: int = 0, high: float = float("inf")) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def check_state(state) -> dict:
    """`state` (a parsed state.json) if every field :func:`latest`'s callers use has the
    right type and range; else ValueError naming the field."""
    if not isinstance(state, dict):
        _fail("not a JSON object")
    for key, low in (("epoch", 1), ("step", 0), ("waited", 0)):
        if not _is_int(state.get(key), low):
            _fail(f"{key} must be an integer >= {low}")
    if "best_epoch" not in state or (state["best_epoch"] is not None
                                     and not _is_int(state["best_epoch"], 1)):
        _fail("best_epoch must be null or an integer >= 1")
    if isinstance(state.get("best_value"), bool) or not isinstance(
            state.get("best_value"), (int, float)):
        _fail("best_value must be a number")
    if not (isinstance(state.get("history"), list)
            and all(isinstance(h, dict) for h in state["history"])):
        _fail("history must be a list of objects")
    rng = state.get("rng")
    if not (isinstance(rng, list) and len(rng) == 5 and rng[0] == "MT19937"
            and isinstance(rng[1], list) and len(rng[1]) == 624
            and all(_is_int(k, 0, 2**32 - 1) for k in rng[1]) and _is_int(rng[2], 0, 624)
            and _is_int(rng[3], 0, 1) and isinstance(rng[4], (int, float))):
        _fail("rng must be a MT19937 generator state")
    for key in ("fingerprint", "sha256"):
        if not isinstance(state.get(key), dict):
            _fail(f"{key} must be an object")
    if not (set(state["sha256"]) <= {"model.params", "optimizer.params", "best.params"}
            and all(isinstance(v, str) for v in state["sha256"].values())):
        _fail("sha256 must map the checkpoint's own file names to digests")
    optimizer = state.get("optimizer")
    if not (isinstance(optimizer, dict) and isinstance(optimizer.get("layout"), dict)
            and isinstance(optimizer.get("update_count"), dict)
            and set(optimizer["layout"]) == set(optimizer["update_count"])
            and all(_is_int(v, 0, 16) for v in optimizer["layout"].values())
            and all(_is_int(v) for v in optimizer["update_count"].values())
            and _is_int(optimizer.get("num_update"))):
        _fail("optimizer must hold layout, update_count and num_update")
    return state


READ_BACK_BYTES = 64 << 20  # a saved file this small is read back whole


def _check_saved(path: Path, content: dict) -> None:
    """MXNet misses some failed writes (a full disk): a file shorter than its arrays' bytes
    is refused, and one under :data:`READ_BACK_BYTES` is read back whole. Reading back the
    IMDB n-gram bag's 320 MB of weights and Adam state doubled them in memory for a moment."""
    need = sum(a.size * np.dtype(a.dtype).itemsize for a in content.values())
    if path.stat().st_size < need:
        raise OSError(28, "the file is shorter than what was written (disk full?)", str(path))
    if need < READ_BACK_BYTES:
        mx.nd.load(str(path))


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
            _check_saved(tmp / name, content)
        digests = {name: file_sha256(tmp / name) for name in files}
        record = {**state, "optimizer": meta, "fingerprint": self.fingerprint,
                  "sha256": digests}
        with open(tmp / STATE_FILE, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        record_files(tmp, {**digests, STATE_FILE: file_sha256(tmp / STATE_FILE)})

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
        return {"path": path, "state": state, "params": _load_arrays(path / "model.params"),
                "best": _load_arrays(path / "best.params"),
                "optimizer": _load_arrays(path / "optimizer.params") or {}}

    def _read_state(self, path: Path) -> dict:
        file = path / STATE_FILE
        try:
            if file.is_symlink() or not file.is_file():
                raise OSError("not a regular file")
            if file.stat().st_size > MAX_STATE_BYTES:
                raise OSError(f"{file.stat().st_size:,} bytes, over {MAX_STATE_BYTES:,}")
            with open(file, encoding="utf-8") as handle:
                return check_state(json.load(handle))
        except (OSError, ValueError, RecursionError) as exc:
            raise CheckpointError(f"{file}: unreadable ({str(exc)[:200]}); delete {path} "
                                  "or run without --resume") from None

    def _check_fingerprint(self, path: Path, saved: dict) -> None:
        differ = [k for k in sorted(set(saved) | set(self.fingerprint))
                  if saved.get(k) != self.fingerprint.get(k)]
        if not differ:
            return
        what = ("the training data differs" if differ == ["data_sha256"] else
                ", ".join(f"{k if k.isprintable() else repr(k)} {saved.get(k)!r} there, "
                          f"{self.fingerprint.get(k)!r} here"
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
