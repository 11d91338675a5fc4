"""Where data and bundles live: local paths today, with one entry point for remote URIs.

Everything that reads a user-given location goes through :func:`local_path`, and everything
that writes a file goes through :func:`atomic_write` (write a temp file, then rename), so a
crash never leaves a half-written file under its final name.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import StorageError


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


def check_output(location: str | os.PathLike) -> None:
    """Fail before any work if results cannot be written to `location`.

    ``s3://`` locations get a real write (and delete) of a probe object; local paths must be
    (or be creatable in) a writable directory.
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
    ancestor = path
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StorageError(f"cannot write results to {text}: {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise StorageError(f"cannot write results to {text}: permission denied on {ancestor}")


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
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temp file next to `path` and rename it over `path` only if the block succeeds.

    Examples
    --------
    >>> with atomic_write("metrics.json") as f:  # doctest: +SKIP
    ...     f.write("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    kwargs = {} if "b" in mode else {"encoding": encoding}
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_dir(parent: str | os.PathLike, prefix: str) -> Path:
    """A new hidden directory in `parent` (same file system, so a rename moves it into place)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(path, 0o777 & ~_umask())  # mkdtemp makes 0700
    return path


def replace_dir(tmp_dir: Path, final_dir: Path) -> None:
    """Move a fully written directory into place, replacing an older one only at the end."""
    final_dir = Path(final_dir)
    old = None
    if final_dir.exists():
        old = final_dir.with_name(f".{final_dir.name}.old-{os.getpid()}")
        os.replace(final_dir, old)
    os.replace(tmp_dir, final_dir)
    if old is not None:
        import shutil

        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def output_lock(location: str | os.PathLike):
    """Hold an exclusive lock on a local output location for the length of the block.

    A second run writing to the same place is refused at once, so two runs never interleave
    their files. The lock is the OS's (``flock`` on ``.<name>.lock`` next to the output): a
    killed run releases it, and the small lock file left behind does no harm. ``s3://``
    outputs are not locked (S3 has no locks; each bundle upload is atomic per object).
    """
    if is_remote(location):
        yield
        return
    import fcntl

    path = Path(location).expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise StorageError(f"another run (pid {holder}) is writing to {location}; wait "
                               "for it to finish or choose another output") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock
