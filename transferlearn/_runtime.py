"""Checks and settings that must happen before MXNet is imported."""
from __future__ import annotations

import os


class EnvironmentProblem(ImportError):
    """The installed stack cannot run transferlearn."""


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_numpy() -> None:
    """Refuse numpy >= 1.24 before `import mxnet` fails obscurely on it."""
    import numpy

    if _version_tuple(numpy.__version__) >= (1, 24):
        raise EnvironmentProblem(
            f"transferlearn needs numpy < 1.24 (mxnet 1.9.1 uses aliases removed in 1.24), "
            f"found numpy {numpy.__version__}; run: pip install 'numpy==1.23.5'"
        )


def check_mxnet(version: str) -> None:
    """Refuse an MXNet other than 1.9.x."""
    if _version_tuple(version)[:2] != (1, 9):
        raise EnvironmentProblem(
            f"transferlearn needs mxnet 1.9.x, found mxnet {version}; "
            f"run: pip install 'mxnet==1.9.1'"
        )


def check_installed_mxnet() -> None:
    """:func:`check_mxnet` on the installed distribution's version, without importing MXNet
    (the package imports it on first use)."""
    from importlib import metadata

    try:
        version = metadata.version("mxnet")
    except metadata.PackageNotFoundError:
        raise EnvironmentProblem("transferlearn needs mxnet 1.9.x, and no mxnet is installed; "
                                 "run: pip install 'mxnet==1.9.1'") from None
    check_mxnet(version)


def physical_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def configure_threads() -> int:
    """Default OMP_NUM_THREADS to the usable cores unless the user chose a value.

    MXNet otherwise starts half as many OpenMP threads as there are cores; measured on 2 cores,
    2 threads train 1.5-1.7x faster than MXNet's default of 1. Must run before `import mxnet`.
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(physical_cores()))
    return int(os.environ["OMP_NUM_THREADS"])


def runtime_line() -> str:
    """One line on what this MXNet can use: version, oneDNN, OpenMP threads, dist kvstore.

    Without oneDNN (MKLDNN) the CPU convolutions and LSTMs are several times slower, so that
    is said as a warning.
    """
    import mxnet as mx

    features = mx.runtime.Features()
    onednn = features.is_enabled("MKLDNN")
    parts = [f"mxnet {mx.__version__}", "oneDNN on" if onednn else "oneDNN OFF",
             f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} of "
             f"{physical_cores()} cores",
             "dist kvstore " + ("available" if features.is_enabled("DIST_KVSTORE") else "absent")]
    line = "runtime: " + ", ".join(parts)
    if not onednn:
        line += ("\nwarning: this MXNet build has no oneDNN (MKLDNN): CPU training will be "
                 "several times slower; the pip wheel 'mxnet==1.9.1' has it")
    return line
