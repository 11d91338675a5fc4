"""Which process this is in a distributed run (MXNet's parameter-server KVStore).

A distributed run has one scheduler, one or more servers and N workers, all started with
the ``DMLC_*`` environment (see :mod:`transferlearn.cli.launch`). Every worker runs the same
script; :func:`cluster` tells it its rank, so that it trains on its share of each batch and
only rank 0 writes the bundle.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

DIST_KINDS = ("dist_sync", "dist_async")


@dataclass(frozen=True)
class Cluster:
    """The kvstore to hand to ``gluon.Trainer`` and this worker's place among the workers."""

    kvstore: object
    rank: int = 0
    num_workers: int = 1

    @property
    def is_async(self) -> bool:
        return "async" in getattr(self.kvstore, "type", "")


def is_distributed(kvstore) -> bool:
    kind = kvstore if isinstance(kvstore, str) else getattr(kvstore, "type", "")
    return str(kind).startswith("dist")


def cluster(kvstore="device") -> Cluster:
    """The :class:`Cluster` for `kvstore` (a name or a KVStore); one kvstore per process."""
    if not is_distributed(kvstore):
        return Cluster(kvstore)
    kv = _create(kvstore) if isinstance(kvstore, str) else kvstore
    return Cluster(kv, kv.rank, kv.num_workers)


@functools.cache
def _create(kind: str):
    from ..errors import TransferLearnError

    if kind not in DIST_KINDS:
        raise TransferLearnError(f"unknown kvstore {kind!r}; choose device, "
                                 f"{', '.join(DIST_KINDS)}")
    missing = [v for v in ("DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT", "DMLC_NUM_WORKER",
                           "DMLC_NUM_SERVER") if not os.environ.get(v)]
    if missing or os.environ.get("DMLC_ROLE", "worker") != "worker":
        raise TransferLearnError(
            f"--kvstore {kind} needs the DMLC_* environment of a distributed run "
            f"(missing: {', '.join(missing) or 'DMLC_ROLE=worker'}); start it with: "
            "transferlearn launch -n WORKERS -- transferlearn train-base ... --kvstore " + kind)
    import mxnet as mx

    kv = mx.kv.create(kind)
    if kv.rank != 0:
        _quiet_worker(os.environ.get("TRANSFERLEARN_WORKER_LOG"))
    return kv


def _quiet_worker(log: str | None) -> None:
    """Send this (non-zero rank) worker's output to `log`: rank 0 speaks for the run."""
    if not log:
        return
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def rank(kvstore="device") -> int:
    """This worker's rank (0 outside a distributed run)."""
    return cluster(kvstore).rank


__all__ = ["Cluster", "DIST_KINDS", "cluster", "is_distributed", "rank"]
