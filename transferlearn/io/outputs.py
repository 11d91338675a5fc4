"""The one output policy: every command that writes asks here first, before any work.

- An output that is, contains or lies inside an input (resolved through links, ``..`` and
  hard links) is refused.
- A directory output (a bundle, a comparison, vectors, an evaluation) may hold only what the
  tool wrote there (:mod:`~transferlearn.io.manifest` keeps the record); anything else is
  refused, naming it.
- An existing output file is replaced only when the tool wrote it and nobody changed it
  since, or with ``overwrite`` (``--overwrite``), which replaces only files of the names the
  tool writes. Every write is atomic (:func:`~transferlearn.io.storage.atomic_path`).
- ``-`` is stdout where a command writes one table; a command that writes a directory
  refuses it (it would make a directory named ``-``).
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

from ..errors import StorageError
from .manifest import MANIFEST, recorded, written_by_tool
from .storage import file_sha256, is_remote, is_s3, unsupported

STDOUT = "-"

# Every name the tool writes into a run directory (a bundle, a comparison or a curve, their
# per-epoch checkpoints, vectors, an evaluation).
RUN_FILES = frozenset({
    "model.params", "config.json", "vocab.json", "metrics.json", "history.png",  # a bundle
    "linear.json",  # an ensemble's linear model
    "best.params", "optimizer.params", "state.json",  # a checkpoint
    "comparison.csv", "curve.csv", "curve.md", "curve.png",  # compare, learning curve
    "vectors.vec", "pretrain.json",  # pretrain
    "confusion.png",  # evaluate
})
RUN_DIRS = re.compile(r"checkpoints|epoch-\d+|[a-z][a-z0-9+_-]*")  # checkpoints, strategies
TEMP_NAME = re.compile(r"\..+\.tmp(-.*)?|\.epoch-tmp-.*")  # left by a killed write


def foreign_entries(directory: str | os.PathLike, overwrite: bool = False,
                    depth: int = 3) -> list[str]:
    """Paths (relative to `directory`) of what stops the tool from writing there.

    That is every entry the tool did not write: a file of another name, a link (the tool
    writes none), and a file of one of the tool's names that its record does not hold with
    these bytes (a user's ``metrics.json``, or a result edited since), unless `overwrite`.
    Empty for a missing or empty directory and for the tool's own earlier results.
    """
    directory = Path(directory)
    found: list[str] = []
    if not directory.is_dir():
        return found
    mine = recorded(directory)
    for entry in sorted(directory.iterdir()):
        name = entry.name
        if entry.is_symlink():
            found.append(name)
        elif entry.is_dir() and depth > 0 and RUN_DIRS.fullmatch(name):
            found += [f"{name}/{inner}" for inner in foreign_entries(entry, overwrite,
                                                                     depth - 1)]
        elif entry.is_file() and (name == MANIFEST or TEMP_NAME.fullmatch(name)):
            continue
        elif not (entry.is_file() and name in RUN_FILES and (
                overwrite or mine.get(name) == file_sha256(entry))):
            found.append(name + ("/" if entry.is_dir() else ""))
    return found


def refuse_foreign(directory: str | os.PathLike, role: str = "--out",
                   overwrite: bool = False) -> None:
    """Raise :class:`StorageError` if `directory` holds anything the tool may not replace."""
    foreign = foreign_entries(directory, overwrite)
    if not foreign:
        return
    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                      else "")
    own_names = all(Path(f).name in RUN_FILES and not f.endswith("/") for f in foreign)
    hint = ("; choose a new or empty directory, or pass --overwrite to replace them"
            if own_names else "; choose a new or empty directory")
    raise StorageError(f"{role} {directory} holds files transferlearn did not write "
                       f"({shown}){hint}")


def check_output(location: str | os.PathLike, inputs=(), overwrite: bool = False,
                 role: str = "--out") -> None:
    """Fail before any work if a directory of results cannot be written to `location`.

    ``s3://`` locations get a real write (and delete) of a probe object. A local path must
    be (or be creatable in) a writable directory that holds nothing but the tool's earlier
    results (:func:`foreign_entries`), and must not contain, equal or lie inside any local
    path of `inputs` (the data, the base bundle).
    """
    text = str(location)
    if text == STDOUT:
        raise StorageError(f"{role} -: this command writes a directory of files, not one "
                           "table to stdout; give a directory")
    if _remote_checked(text):
        return
    path = Path(text).expanduser().absolute()
    check_apart(text, inputs, role)
    if path.exists() and not path.is_dir():
        raise StorageError(f"cannot write results to {text}: it is a file, not a directory")
    refuse_foreign(text, role, overwrite)
    _probe_writable(text, _existing_ancestor(text, path))


def check_output_file(location: str | os.PathLike, inputs=(), overwrite: bool = False,
                      role: str = "--out") -> None:
    """Fail before any work if one result file (a table, a figure, a pulled object) cannot
    be written to `location`: ``-`` (stdout) passes; an input, a directory or a link there
    is refused; an existing file only if the tool wrote it, or with `overwrite`."""
    text = str(location)
    if text == STDOUT or _remote_checked(text):
        return
    path = Path(text).expanduser()
    check_apart(text, inputs, role)
    if path.is_symlink():
        raise StorageError(f"{role} {text} is a link; transferlearn replaces no links (write "
                           "to the file it points to, or to a new name)")
    if path.is_dir():
        raise StorageError(f"{role} {text} is a directory; give a file name")
    if path.exists():
        if not path.is_file():
            raise StorageError(f"{role} {text} is not a regular file")
        if not (overwrite or written_by_tool(path)):
            raise StorageError(f"{role} {text} exists and transferlearn did not write it (or "
                               "it changed since); choose a new name, or pass --overwrite "
                               "to replace it")
    parent = path.absolute().parent
    if parent.is_dir():
        recorded(parent)  # a .transferlearn.json there that is not the tool's: refused now
    _probe_writable(text, _existing_ancestor(text, parent))


def _remote_checked(text: str) -> bool:
    """True for an ``s3://`` output, checked with a real write; other schemes refused."""
    if is_s3(text):
        from . import s3

        s3.check_writable(text)
        return True
    if is_remote(text):
        raise unsupported(text, "output")
    return False


def check_apart(text: str, inputs, role: str = "--out") -> None:
    """Refuse an output `text` that is, contains or lies inside a local input."""
    path = Path(text).expanduser()
    real = path.resolve()
    for given in inputs:
        if given is None or not isinstance(given, (str, os.PathLike)) or is_remote(given) \
                or str(given) == STDOUT:
            continue
        source = Path(given).expanduser()
        if not source.exists():
            continue
        source = source.resolve()
        if source == real or _same_file(source, path):
            raise StorageError(f"{role} {text} is the input {given} itself; write the "
                               "results elsewhere")
        if real in source.parents:
            raise StorageError(f"{role} {text} contains the input {given}; write the results "
                               "to a new directory")
        if source in real.parents:
            raise StorageError(f"{role} {text} lies inside the input {given}; write the "
                               "results outside it")


def _same_file(source: Path, path: Path) -> bool:
    """Hard links: two names, one file."""
    try:
        return os.path.samefile(source, path)
    except OSError:
        return False


def _existing_ancestor(text: str, path: Path) -> Path:
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StorageError(f"cannot write results to {text}: {ancestor} is a file")
    return ancestor


def _probe_writable(text: str, directory: Path) -> None:
    """Create and remove a temp file: a real write, so read-only mounts fail here too."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe-", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise StorageError(f"cannot write results to {text}: {exc.strerror or exc} in "
                           f"{directory}") from None
    os.close(fd)
    os.unlink(probe)


@contextlib.contextmanager
def output_lock(location: str | os.PathLike):
    """Hold an exclusive lock on a local output directory for the length of the block.

    A second run writing to the same place is refused at once, so two runs never interleave
    their files. The lock is the OS's ``flock`` on the directory itself, taken on its real
    path (a link to it is the same directory), so it needs no lock file and a killed run
    releases it. The directory is created if missing, and removed again at the end if it is
    still empty. ``s3://`` outputs are not locked (S3 has no locks; each bundle upload is
    atomic per object).
    """
    if is_remote(location):
        yield
        return
    import fcntl

    path = Path(location).expanduser()
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.resolve(), os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError(f"another run is writing to {location}; wait for it to finish "
                               "or choose another output") from None
        yield
    finally:
        os.close(fd)  # closing releases the flock
        if created:
            with contextlib.suppress(OSError):
                path.rmdir()  # only succeeds while empty: a failed run leaves nothing behind


def save_figure(fig, path: str | os.PathLike, dpi: int = 110, overwrite: bool = False) -> str:
    """Write a matplotlib figure as PNG to `path`, by the policy: a file there is replaced
    only if the tool wrote it (or with `overwrite`), through a temp file and a rename."""
    from .storage import atomic_path

    check_output_file(path, overwrite=overwrite, role="figure")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return str(path)
__all__ = ["RUN_DIRS", "RUN_FILES", "STDOUT", "TEMP_NAME", "check_apart", "check_output",
           "check_output_file", "foreign_entries", "output_lock", "refuse_foreign",
           "save_figure"]
