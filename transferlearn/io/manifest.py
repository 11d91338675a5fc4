"""What the tool wrote: a record in each directory it writes files into.

Every file the tool writes goes through :func:`~transferlearn.io.storage.atomic_path`,
which adds the file's name and sha256 to ``.transferlearn.json`` in the same directory. A
file is the tool's to replace only while that record names it with its current bytes: a
user's ``metrics.json``, or one the tool wrote and the user then edited, is not
(:mod:`transferlearn.io.outputs` holds the policy). The record moves with its directory (a
checkpoint's temp directory renamed into place keeps its record).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..errors import StorageError

MANIFEST = ".transferlearn.json"
MAX_MANIFEST_BYTES = 16 << 20
_MARK = "transferlearn"


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes (bundles and checkpoints record them)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def recorded(directory: str | os.PathLike) -> dict[str, str]:
    """``{file name: sha256}`` of what the tool wrote in `directory` ({} when none).

    Raises :class:`StorageError` if a ``.transferlearn.json`` there is not the tool's record
    (a link, a directory, another program's file): it is never read through or replaced.
    """
    path = Path(directory) / MANIFEST
    if not os.path.lexists(path):
        return {}
    problem = None
    if path.is_symlink() or not path.is_file():
        problem = "not a regular file"
    elif path.stat().st_size > MAX_MANIFEST_BYTES:
        problem = "too large"
    else:
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            problem = str(exc)[:100]
        else:
            files = data.get("files") if isinstance(data, dict) else None
            if (isinstance(data, dict) and data.get("written_by") == _MARK
                    and isinstance(files, dict)
                    and all(isinstance(v, str) for v in files.values())):
                return files
            problem = "not transferlearn's record of its files"
    raise StorageError(f"{path}: {problem}; transferlearn keeps the list of files it wrote "
                       "there under this name: move it away")


def record(path: str | os.PathLike, digest: str | None = None) -> None:
    """Note that the tool wrote `path` (its sha256 `digest`, computed when not given)."""
    path = Path(path)
    record_files(path.parent, {path.name: digest or file_sha256(path)})


def record_files(directory: str | os.PathLike, digests: dict[str, str]) -> None:
    """Add ``{name: sha256}`` entries to `directory`'s record (written atomically)."""
    directory = Path(directory)
    files = {**recorded(directory), **digests}
    fd, tmp = tempfile.mkstemp(prefix=f"{MANIFEST}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"written_by": _MARK, "files": dict(sorted(files.items()))}, handle,
                      indent=1)
            handle.write("\n")
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600
        os.replace(tmp, directory / MANIFEST)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise StorageError(f"cannot write {directory / MANIFEST}: {exc.strerror or exc}") \
            from None


def written_by_tool(path: str | os.PathLike) -> bool:
    """True if `path` is a regular file the tool wrote and nobody changed since."""
    path = Path(path)
    if path.is_symlink() or not path.is_file():
        return False
    digest = recorded(path.parent).get(path.name)
    return digest is not None and digest == file_sha256(path)


__all__ = ["MANIFEST", "file_sha256", "record", "record_files", "recorded", "written_by_tool"]
