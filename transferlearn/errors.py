"""Typed errors with one-line messages; the scripts print them and exit non-zero."""
import re

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_BARE_USERINFO = re.compile(r"(?<![\w/])[^\s/:@'\"]+:[^\s/@'\"]*@(?=[\w.-]+)")


def last_line(exc: BaseException) -> str:
    """The line of an exception's message that says what went wrong: MXNet's is a C++
    traceback ending in ``MXNetError: Check failed: ...``, so the last non-empty one."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1].removeprefix("MXNetError: ")[:200] if lines else type(exc).__name__


def redact(text: str) -> str:
    """`text` without the ``user:password@`` part of any URL, with or without a scheme.

    >>> redact("http://me:pw@host:9000/x and me:pw@host")
    'http://host:9000/x and host'
    """
    return _BARE_USERINFO.sub("", _USERINFO.sub(r"\1", str(text)))


class TransferLearnError(Exception):
    """Base class: anything the user can fix (bad input, bad bundle, bad option)."""


class DataError(TransferLearnError, ValueError):
    """A data set is missing, unreadable or does not have the expected shape."""


class BundleError(TransferLearnError):
    """A model bundle is missing, incomplete or inconsistent."""


class StorageError(TransferLearnError):
    """Reading or writing a location (local path or s3:// URI) failed."""
