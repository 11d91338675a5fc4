"""Typed errors with one-line messages; the scripts print them and exit non-zero."""


class TransferLearnError(Exception):
    """Base class: anything the user can fix (bad input, bad bundle, bad option)."""


class DataError(TransferLearnError, ValueError):
    """A data set is missing, unreadable or does not have the expected shape."""


class BundleError(TransferLearnError):
    """A model bundle is missing, incomplete or inconsistent."""


class StorageError(TransferLearnError):
    """Reading or writing a location (local path or s3:// URI) failed."""
