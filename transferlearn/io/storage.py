"""Where data and bundles live: local paths today, with one entry point for remote URIs.

Everything that reads a user-given location goes through :func:`local_path`, and everything
that writes a file goes through :func:`atomic_write` (write a temp file, then rename), so a
crash never leaves a half-written file under its final name.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from ..errors import StorageError, last_line


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (bundles and checkpoints record them)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_remote(location: str | os.PathLike) -> bool:
    """True for URIs such as ``s3://bucket/key`` that must be fetched before reading."""
    return "://" in str(location)


def is_s3(location: str | os.PathLike) -> bool:
    return str(location).startswith("s3://")


def _unsupported(text: str, role: str) -> StorageError:
    scheme = text.split("://", 1)[0]
    return StorageError(f"unsupported {role} scheme '{scheme}://' in {text!r} "
                        "(local paths and s3:// are supported)")


def local_path(location: str | os.PathLike, quiet: bool = False) -> Path:
    """Return a local path for `location`, fetching ``s3://`` objects into the cache first.

    ``s3://bucket/key`` gives the cached file; ``s3://bucket/prefix/`` (or a key that is
    only a prefix) gives a cached directory tree of every object under it.

    Raises
    ------
    StorageError
        If the location does not exist, cannot be fetched, or its scheme is not supported.
    """
    text = str(location)
    if is_s3(text):
        from . import s3

        return s3.fetch(text, quiet=quiet)
    if is_remote(text):
        raise _unsupported(text, "location")
    path = Path(text).expanduser()
    if not path.exists():
        raise StorageError(f"file not found: {text}")
    return path


# Every name the tool writes into a run directory (a bundle, a comparison or a curve, and
# their per-epoch checkpoints). An --out holding anything else is refused before any work, so
# a run never overwrites or deletes a file the tool did not write.
RUN_FILES = frozenset({
    "model.params", "config.json", "vocab.json", "metrics.json", "history.png",  # a bundle
    "linear.json",  # an ensemble's linear model
    "best.params", "optimizer.params", "state.json",  # a checkpoint
    "comparison.csv", "curve.csv", "curve.md", "curve.png",  # compare, learning curve
    "vectors.vec", "pretrain.json",  # pretrain
})
RUN_DIRS = re.compile(r"checkpoints|epoch-\d+|[a-z][a-z0-9+_-]*")  # checkpoints, strategies
TEMP_NAME = re.compile(r"\..+\.tmp(-.*)?|\.epoch-tmp-.*")  # left by a killed write


def foreign_entries(directory: str | os.PathLike, depth: int = 3) -> list[str]:
    """Paths (relative to `directory`) of what the tool would not have written there.

    Empty for a missing or empty directory, an earlier bundle, comparison or curve, and their
    checkpoints. Links are always foreign: the tool writes none.
    """
    directory = Path(directory)
    found: list[str] = []
    if not directory.is_dir():
        return found
    for entry in sorted(directory.iterdir()):
        name = entry.name
        if entry.is_symlink():
            found.append(name)
        elif entry.is_dir() and depth > 0 and RUN_DIRS.fullmatch(name):
            found += [f"{name}/{inner}" for inner in foreign_entries(entry, depth - 1)]
        elif not (entry.is_file() and name in RUN_FILES or TEMP_NAME.fullmatch(name)):
            found.append(name + ("/" if entry.is_dir() else ""))
    return found


def refuse_foreign(directory: str | os.PathLike, role: str = "--out") -> None:
    """Raise :class:`StorageError` if `directory` holds anything the tool did not write."""
    foreign = foreign_entries(directory)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                          else "")
        raise StorageError(f"{role} {directory} holds files that are not a transferlearn "
                           f"bundle ({shown}); choose a new or empty directory")


def check_output(location: str | os.PathLike, inputs=()) -> None:
    """Fail before any work if results cannot be written to `location` safely.

    ``s3://`` locations get a real write (and delete) of a probe object. A local path must be
    (or be creatable in) a writable directory that holds nothing but earlier results of the
    tool, and must not contain, equal or lie inside any local path of `inputs` (the data,
    the base bundle), so writing the results can never overwrite or delete them.
    """
    text = str(location)
    if is_s3(text):
        from . import s3

        s3.check_writable(text)
        return
    if is_remote(text):
        raise _unsupported(text, "output")
    path = Path(text).expanduser().absolute()
    if path.exists() and not path.is_dir():
        raise StorageError(f"cannot write results to {text}: it is a file, not a directory")
    _check_apart(text, path, inputs)
    refuse_foreign(text)
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StorageError(f"cannot write results to {text}: {ancestor} is a file")
    _probe_writable(text, ancestor)


def _check_apart(text: str, path: Path, inputs) -> None:
    real = path.resolve()
    for given in inputs:
        if given is None or not isinstance(given, (str, os.PathLike)) or is_remote(given):
            continue
        source = Path(given).expanduser()
        if not source.exists():
            continue
        source = source.resolve()
        if source == real:
            raise StorageError(f"--out {text} is the input {given} itself; write the results "
                               "to another directory")
        if real in source.parents:
            raise StorageError(f"--out {text} contains the input {given}; write the results "
                               "to a new directory")
        if source in real.parents:
            raise StorageError(f"--out {text} lies inside the input {given}; write the "
                               "results outside it")


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
def output_dir(location: str | os.PathLike, quiet: bool = False):
    """Yield a local directory for results that end up at `location`.

    For a local path that is the path itself. For ``s3://bucket/prefix`` it is a temporary
    directory whose files are uploaded under the prefix once the block succeeds (nothing is
    uploaded if it fails); ``config.json`` files go last, so a bundle is never visible on S3
    before its parameters are.
    """
    text = str(location)
    if not is_remote(text):
        yield Path(text).expanduser()
        return
    if not is_s3(text):
        raise _unsupported(text, "output")
    from . import s3

    with tempfile.TemporaryDirectory(prefix="transferlearn-out-") as tmp:
        local = Path(tmp) / "out"
        yield local
        if local.exists():
            s3.upload(local, text, quiet=quiet)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temp file name next to `path`; rename it over `path` only if the block succeeds.

    For writers that take a file name (``mx.nd.save``, ``save_parameters``). A failed write
    (a full disk, say) removes the temp file, leaves any older `path` as it was and raises
    :class:`StorageError` with one line.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temp file next to `path` and rename it over `path` only if the block succeeds.

    Examples
    --------
    >>> with atomic_write("metrics.json") as f:  # doctest: +SKIP
    ...     f.write("{}")
    """
    with atomic_path(path) as tmp, open(tmp, mode,
                                        encoding=None if "b" in mode else encoding) as handle:
        yield handle


def write_failure(exc: BaseException, path: str | os.PathLike) -> str:
    """One line saying why writing `path` failed, from an OSError or an MXNetError.

    MXNet's message is a C++ traceback ending in ``Check failed: ...: FileStream.Write
    incomplete``, with no errno: a nearly full file system is then named as the cause.
    """
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    reason = last_line(exc)
    if "Write incomplete" in reason:
        with contextlib.suppress(OSError):
            stats = os.statvfs(Path(path).parent)
            if stats.f_bavail * stats.f_frsize < 1 << 20:
                return "No space left on device"
        return "the write was incomplete"
    return reason


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_dir(parent: str | os.PathLike, prefix: str) -> Path:
    """A new hidden directory in `parent` (same file system, so a rename moves it into place)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, 0o777 & ~_umask())  # mkdtemp makes 0700
    return path


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
