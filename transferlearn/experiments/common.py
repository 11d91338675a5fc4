"""What the runs share: the settings line, the output lock, devices and checkpoints, and
writing the bundle (reading the rows is :mod:`transferlearn.data.loading`'s)."""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from ..bundle.store import save_bundle
from ..checks import check_settings
from ..config import MAX_SOURCES, input_settings, not_fingerprinted, plain
from ..data.sources import source_list
from ..errors import DataError, redact
from ..io.checkpoint import Checkpointer, fingerprint
from ..io.outputs import check_output, check_output_file, output_lock
from ..io.storage import is_remote, output_dir
from ..log import logger
from ..training import distributed
from ..training.loop import device_contexts


def settings_line(title: str, settings) -> str:
    """``title: key=value, ...`` of the settings that differ from the defaults (all of them
    are in the bundle's config.json), URL credentials redacted."""
    from ..config import fields

    defaults = fields(type(settings))
    changed = {k: v for k, v in plain(settings).items()
               if k != "verbose" and v != defaults.get(k)}
    shown = ", ".join(f"{k}={v}" for k, v in changed.items()) or "the defaults"
    return redact(f"{title}: {shown} (other settings at their defaults)"
                  if changed else f"{title}: {shown}")


# Arguments that name local inputs (marked on their fields): --out may neither be, contain
# nor lie inside them.
INPUT_ARGUMENTS = input_settings()
FILE_OPTIONS = {"tsne": "--tsne", "plot": "--curve-plot"}  # options naming one output file


def locked(func):
    """For a run taking a settings object (and keyword options): check every numeric setting
    and option (:mod:`~transferlearn.checks`), then that ``out`` is writable and apart from
    the inputs, then run holding the output's lock (:func:`~transferlearn.io.storage.check_output`,
    :func:`~transferlearn.io.storage.output_lock`). ``out=None`` and workers other than rank
    0 of a distributed run skip the output checks and the lock."""

    @functools.wraps(func)
    def wrapper(settings, **options):
        check_settings({**plain(settings), **options})  # e.g. a curve's repeats too
        _check_source_count(getattr(settings, "source_data", None))
        out = settings.out
        if out is None or distributed.rank(getattr(settings, "kvstore", "device")) != 0:
            return func(settings, **options)  # only rank 0 writes; the others train
        inputs = [part for k in INPUT_ARGUMENTS
                  if isinstance(v := getattr(settings, k, None), (str, Path))
                  for part in source_list(str(v))]  # each of several sources
        overwrite = getattr(settings, "overwrite", False)
        check_output(out, inputs, overwrite)  # before any work, and before the lock creates it
        for name, flag in FILE_OPTIONS.items():  # figures written beside the run directory
            if isinstance(options.get(name), (str, Path)):
                check_output_file(options[name], inputs, overwrite, flag)
        with output_lock(out):
            return func(settings, **options)

    return wrapper


def _check_source_count(source_data) -> None:
    """Several labelled source sets: at most as many as a bundle can carry priors for."""
    if isinstance(source_data, (str, list, tuple)) and \
            len(parts := source_list(source_data)) > MAX_SOURCES:
        raise DataError(f"--source-data names {len(parts)} sources; at most {MAX_SOURCES} "
                        "(a bundle carries at most that many source models)")


NOT_FINGERPRINTED = not_fingerprinted()  # marked on their fields


def training_options(settings, X, y) -> dict:
    """The keyword arguments of :func:`~transferlearn.training.fit` for devices, the
    kvstore and per-epoch checkpoints (rank 0 only; none when ``settings.out`` is None)."""
    cluster = distributed.cluster(settings.kvstore)
    options = {"ctx": device_contexts(settings.gpus), "kvstore": cluster.kvstore,
               "checkpoint": None, "resume": False,
               "length_buckets": settings.length_buckets}
    if cluster.num_workers > 1:
        logger.info(f"distributed: {cluster.num_workers} workers ({settings.kvstore}); each "
                    f"takes 1/{cluster.num_workers} of every batch")
        if settings.resume:
            raise DataError("--resume is not supported with a distributed kvstore")
    if settings.out is None or cluster.rank != 0:
        return options
    kept = {k: v for k, v in plain(settings).items() if k not in NOT_FINGERPRINTED}
    options["checkpoint"] = Checkpointer(checkpoint_dir(settings.out), fingerprint(X, y, kept))
    options["resume"] = settings.resume
    return options


def save_run(settings, checkpoint, net, pipe, labels, metrics, kind,
             more: dict | None = None):
    """The run's :class:`~.result.Result` (its metrics holding the trained model); the bundle
    written for a run that checkpoints (rank 0 with an `out`), then its checkpoints dropped.
    `kind` names the settings in config.json; `more` adds sections to it (an ensemble's
    TF-IDF model)."""
    from .result import Result

    extra = {kind: {k: v for k, v in plain(settings).items()
                    if k not in ("out", "overwrite", "verbose")}, **(more or {})}
    if checkpoint is None:
        return Result.of(metrics, net, pipe, labels, extra)
    with output_dir(settings.out, quiet=not settings.verbose) as local:
        save_bundle(local, net, pipe, labels, metrics, extra=extra,
                    overwrite=settings.overwrite)
        if metrics.get("history"):
            from .curves import plot_history

            plot_history(metrics["history"], local / "history.png",
                         title=f"{metrics.get('strategy', 'base')}: {metrics.get('data', '')}",
                         best_epoch=metrics.get("best_epoch"), overwrite=settings.overwrite)
    checkpoint.clear()
    return Result.of(metrics, net, pipe, labels, extra,
                     path=None if is_remote(settings.out) else settings.out)


def checkpoint_dir(out) -> Path:
    """Where a run writing to `out` keeps its per-epoch checkpoints: ``OUT/checkpoints`` for
    a local `out` (the final bundle replaces it), a local cache directory for ``s3://``."""
    if is_remote(out):
        from ..io.s3_client import cache_root

        key = hashlib.sha256(str(out).encode()).hexdigest()[:16]
        return cache_root() / "checkpoints" / key
    return Path(out).expanduser() / "checkpoints"
