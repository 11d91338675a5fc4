"""Where data and bundles live: local paths today, with one entry point for remote URIs.

Everything that reads a user-given location goes through :func:`local_path`, and everything
that writes a file goes through :func:`atomic_write` (write a temp file, then rename), so a
crash never leaves a half-written file under its final name, and each file written is
recorded (:mod:`~transferlearn.io.manifest`). Where results may go is
:mod:`~transferlearn.io.outputs`' to say.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from ..errors import StorageError, last_line
from .manifest import file_sha256, record


def is_remote(location: str | os.PathLike) -> bool:
    """True for URIs such as ``s3://bucket/key`` that must be fetched before reading."""
    return "://" in str(location)


def is_s3(location: str | os.PathLike) -> bool:
    return str(location).startswith("s3://")


def unsupported(text: str, role: str) -> StorageError:
    scheme = text.split("://", 1)[0]
    return StorageError(f"unsupported {role} scheme '{scheme}://' in {text!r} "
                        "(local paths and s3:// are supported)")


def local_path(location: str | os.PathLike, quiet: bool = False) -> Path:
    """Return a local path for `location`, fetching ``s3://`` objects into the cache first.

    ``s3://bucket/key`` gives the cached file; ``s3://bucket/prefix/`` (or a key that is
    only a prefix) gives a cached directory tree of every object under it. A pipe (a FIFO,
    ``<(cmd)``) is read once, as a stream, into a temp file (:func:`spool`). Messages that
    name the local copy name the user's location instead (:func:`user_facing`).

    Raises
    ------
    StorageError
        If the location does not exist, cannot be fetched, is a device, or its scheme is
        not supported.
    """
    text = str(location)
    if is_s3(text):
        from . import s3

        return remember(s3.fetch(text, quiet=quiet), text)
    if is_remote(text):
        raise unsupported(text, "location")
    path = Path(text).expanduser()
    if not path.exists():
        raise StorageError(f"file not found: {text}")
    kind = path.stat().st_mode
    if stat.S_ISFIFO(kind) or stat.S_ISSOCK(kind):
        with open_stream(path, text) as handle:
            return spool(handle, text, path.name)
    if not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
        raise StorageError(f"{text}: not a regular file or directory (a device); give a file")
    return path


# Local copies (S3 cache entries, spooled pipes) -> the location the user gave, for messages.
_GIVEN: dict[str, str] = {}
MAX_STREAM_BYTES = 8 << 30  # a pipe read into a temp file: at most this much
STREAM_GRACE_SECONDS = 1.0  # a pipe with no writer is empty after this long


def remember(path: Path, given: str) -> Path:
    """Note that local `path` stands for the user's `given` location; returns `path`."""
    _GIVEN[str(path)] = given
    return path


def user_facing(message: str) -> str:
    """`message` with every local copy named as the location the user gave."""
    for local in sorted(_GIVEN, key=len, reverse=True):
        message = message.replace(local, _GIVEN[local])
    return message


@contextlib.contextmanager
def open_stream(path: Path, text: str):
    """A pipe opened for reading without waiting for a writer (``open`` would block until
    one comes): binary, blocking reads once open."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise StorageError(f"cannot read {text}: {exc.strerror or exc}") from None
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        yield handle


def spool(handle, given: str, name: str = "stream", suffix: str = "") -> Path:
    """Read a stream (stdin, a pipe) to its end into a temp file, once; returns its path.

    A writer that connects within :data:`STREAM_GRACE_SECONDS` is waited for; a pipe with
    none by then reads as empty. At most :data:`MAX_STREAM_BYTES` are read.
    """
    import time

    folder = Path(tempfile.mkdtemp(prefix="transferlearn-stream-"))
    _cleanup(folder)
    path = folder / ((name or "stream") + suffix)
    deadline, size = time.monotonic() + STREAM_GRACE_SECONDS, 0
    with open(path, "wb") as out:
        while True:
            block = handle.read(1 << 20)
            if block is None or (not block and not size and time.monotonic() < deadline):
                time.sleep(0.05)  # no writer yet (or no data): wait a little for one
                continue
            if not block:
                break
            size += len(block)
            if size > MAX_STREAM_BYTES:
                raise StorageError(f"{given}: over {MAX_STREAM_BYTES:,} bytes; save it to a "
                                   "file first")
            out.write(block)
    return remember(path, given)


def _cleanup(folder: Path) -> None:
    import atexit
    import shutil

    atexit.register(shutil.rmtree, folder, ignore_errors=True)


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
        raise unsupported(text, "output")
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
        digest = file_sha256(tmp)
        os.replace(tmp, path)
        record(path, digest)  # the tool's to replace later (io.outputs)
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
