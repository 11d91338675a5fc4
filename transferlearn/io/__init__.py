"""Where things are kept, at the bottom of the package: local paths and ``s3://`` (storage,
s3, s3_client), atomic writes, the one output policy (outputs), the record of what the tool
wrote (manifest) and the training checkpoints. The model bundle sits above ``data`` and
``model`` in :mod:`transferlearn.bundle`.

Code imports from the modules; this list is the public part.
"""
from .outputs import check_output, output_lock
from .s3 import fetch, upload
from .storage import atomic_path, atomic_write, is_remote, local_path, output_dir

__all__ = ["atomic_path", "atomic_write", "check_output", "fetch", "is_remote", "local_path",
           "output_dir", "output_lock", "upload"]
