"""``s3://`` reads and writes through boto3, with a local download cache.

Credentials, region and endpoint come from boto3's standard chain: environment variables
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL`` for
S3-compatible stores such as MinIO or SeaweedFS), ``~/.aws/config`` and ``~/.aws/credentials``.

Downloads are cached under ``$TRANSFERLEARN_CACHE`` (default ``~/.cache/transferlearn``) at
``s3/<hash of endpoint>/<bucket>/<hash of key>/<ETag>/<file name>``: a second run reuses
the file while the object is unchanged, and a changed object (new ETag) is downloaded again.
A file appears under its cache name only once complete and verified (streamed to a temp
file under a read timeout, checked against the ETag's MD5 or the size, then renamed).

Every boto3/botocore failure becomes a :class:`~transferlearn.errors.StorageError` with one
line saying what went wrong; credentials never appear in it.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
from pathlib import Path, PurePosixPath

from ..errors import StorageError
from .manifest import MANIFEST
from .s3_client import cache_root, client, endpoint_key, errors, missing_error, object_digest, parse

PARALLEL_DOWNLOADS = 8


CHUNK = 1 << 20


def fetch(uri: str, quiet: bool = False) -> Path:
    """Download ``s3://bucket/key`` (a file) or ``s3://bucket/prefix/`` (a tree) into the cache.

    Returns the local path of the cached file or directory.
    """
    import botocore.exceptions as bex

    bucket, key = parse(uri)
    c = client()
    if key and not key.endswith("/"):
        with errors(uri, bucket):
            try:
                head = c.head_object(Bucket=bucket, Key=key)
            except bex.ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if status == 403:  # HEAD answers carry no error code: ask GET for the reason
                    c.get_object(Bucket=bucket, Key=key, Range="bytes=0-0")
                if status != 404:
                    raise
                if _has_prefix(c, bucket, key + "/"):
                    return _fetch_tree(c, bucket, key + "/", quiet)
                raise missing_error(c, bucket, key) from None
            return _fetch_object(c, bucket, key, head["ETag"], head["ContentLength"], quiet)
    return _fetch_tree(c, bucket, key, quiet)


def _has_prefix(c, bucket: str, prefix: str) -> bool:
    return c.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0




def _object_cache(bucket: str, key: str, etag: str) -> Path:
    name = PurePosixPath(key).name or "object"
    tag = re.sub(r"[^A-Za-z0-9_-]", "", etag) or "none"
    return cache_root() / "s3" / endpoint_key() / bucket / object_digest(key) / tag / name


def _fetch_object(c, bucket, key, etag, size, quiet, progress=None, cancel=None) -> Path:
    path = _object_cache(bucket, key, etag)
    if path.is_file() and path.stat().st_size == size:
        if not quiet and progress is None:
            print(f"using cached s3://{bucket}/{key} ({path})")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    _PARTIAL.add(tmp)
    bar = None
    if progress is None:
        from tqdm.auto import tqdm

        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"download {path.name}",
                   disable=True if quiet else None)
        progress = bar.update
    try:
        with errors(f"s3://{bucket}/{key}", bucket):
            encrypted = _download(c, bucket, key, tmp, progress, cancel)
        _verify(tmp, f"s3://{bucket}/{key}", "" if encrypted else etag, size)
        os.replace(tmp, path)
        if bar is not None and bar.disable and not quiet:  # no bar: one line instead
            print(f"download s3://{bucket}/{key}: {size / 1e6:.1f} MB", file=sys.stderr)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        _PARTIAL.discard(tmp)
        if bar is not None:
            bar.close()
    return path


# Temp files of downloads under way: an interrupted tree download removes them itself, since
# its worker threads may sit in a stalled read until their timeout.
_PARTIAL: set[str] = set()


def _download(c, bucket: str, key: str, tmp: str, progress, cancel) -> bool:
    """Stream the object into `tmp` in :data:`CHUNK` pieces (each read bounded by the read
    timeout; a stalled body raises instead of hanging), stopping early on `cancel`. Returns
    whether it is encrypted so that its ETag is no MD5 (SSE-KMS or a customer key)."""
    response = c.get_object(Bucket=bucket, Key=key)
    body = response["Body"]
    try:
        with open(tmp, "wb") as handle:
            for chunk in iter(lambda: body.read(CHUNK), b""):
                if cancel is not None and cancel.is_set():
                    raise KeyboardInterrupt
                handle.write(chunk)
                progress(len(chunk))
    finally:
        body.close()
    # With SSE-KMS or customer keys the ETag is not the content's MD5: size alone then.
    return (response.get("ServerSideEncryption") == "aws:kms"
            or "SSECustomerAlgorithm" in response)


def _verify(tmp: str, uri: str, etag: str, size: int) -> None:
    """Size always; MD5 against the ETag of a single-part upload (a multipart ETag,
    ``<md5 of the parts' md5s>-<parts>``, is not the content's MD5, so size alone there)."""
    got = os.path.getsize(tmp)
    if got != size:
        raise StorageError(f"{uri}: download incomplete ({got:,} of {size:,} bytes); nothing "
                           "was cached, run again")
    tag = etag.strip('"').lower()
    if re.fullmatch(r"[0-9a-f]{32}", tag):
        md5 = hashlib.md5(usedforsecurity=False)
        with open(tmp, "rb") as handle:
            for block in iter(lambda: handle.read(CHUNK), b""):
                md5.update(block)
        if md5.hexdigest() != tag:
            raise StorageError(f"{uri}: content does not match its ETag (MD5 {md5.hexdigest()}"
                               f", ETag {tag}): the transfer was corrupted; nothing was "
                               "cached, run again")


def _list(c, bucket: str, prefix: str) -> list[dict]:
    uri = f"s3://{bucket}/{prefix}"
    with errors(uri, bucket):
        pages = c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        objects = [o for page in pages for o in page.get("Contents", [])
                   if not o["Key"].endswith("/")]
    if not objects:
        raise StorageError(f"S3 object not found: nothing under {uri}")
    return objects


def _relative(key: str, prefix: str) -> PurePosixPath:
    rel = PurePosixPath(key[len(prefix):].lstrip("/"))
    if not rel.parts or any(p in ("..", ".") for p in rel.parts):
        raise StorageError(f"s3://.../{key}: unsafe object name for a local file")
    return rel


def _fetch_tree(c, bucket: str, prefix: str, quiet: bool) -> Path:
    objects = _list(c, bucket, prefix)
    listing = "\n".join(f"{o['Key']}\t{o['ETag']}\t{o['Size']}" for o in sorted(
        objects, key=lambda o: o["Key"]))
    tree = (cache_root() / "trees" / endpoint_key() / bucket / object_digest(prefix)
            / object_digest(listing))
    if tree.is_dir():
        if not quiet:
            print(f"using cached s3://{bucket}/{prefix} ({len(objects)} objects, {tree})")
        return tree
    from tqdm.auto import tqdm

    tree.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tree-", dir=tree.parent))  # storage uses s3, not back
    try:
        with tqdm(total=sum(o["Size"] for o in objects), unit="B", unit_scale=True,
                  desc=f"download {len(objects)} objects", disable=True if quiet else None) as bar:
            lock = threading.Lock()

            def update(n):
                with lock:
                    bar.update(n)

            def get(o, cancel):
                cached = _fetch_object(c, bucket, o["Key"], o["ETag"], o["Size"], True, update,
                                       cancel)
                target = tmp / _relative(o["Key"], prefix)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(cached, target)
                except OSError:
                    shutil.copyfile(cached, target)

            _in_daemon_threads(get, objects)
            if bar.disable and not quiet:  # no bar (output is no terminal): one line instead
                print(f"download {len(objects)} objects from s3://{bucket}/{prefix}: "
                      f"{bar.n / 1e6:.1f} MB", file=sys.stderr)
        os.replace(tmp, tree)  # a new name: nothing is replaced (a racing twin wins instead)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tree


def _in_daemon_threads(work, items: list) -> None:
    """``work(item, cancel)`` for every item on :data:`PARALLEL_DOWNLOADS` daemon threads.

    The first error stops the rest. Ctrl-C returns at once: daemon threads never keep the
    process alive, the ``cancel`` event stops them between chunks, and the temp files of
    downloads still under way are removed here.
    """
    import queue

    todo: queue.Queue = queue.Queue()
    for item in items:
        todo.put(item)
    cancel, failures = threading.Event(), []

    def worker():
        while not cancel.is_set():
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                work(item, cancel)
            except BaseException as exc:
                failures.append(exc)
                cancel.set()

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(min(PARALLEL_DOWNLOADS, len(items)))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:
        cancel.set()
        for tmp in list(_PARTIAL):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    if failures:
        raise failures[0]


def check_writable(uri: str) -> None:
    """Fail early (before an hour of training) if `uri`'s bucket is missing or not writable."""
    bucket, key = parse(uri)
    probe = f"{key.rstrip('/')}/.transferlearn-write-check" if key else ".transferlearn-write-check"
    c = client()
    try:
        with errors(uri, bucket):
            c.put_object(Bucket=bucket, Key=probe, Body=b"")
            c.delete_object(Bucket=bucket, Key=probe)
    except StorageError as exc:
        raise StorageError(f"cannot write results to {uri}: {exc}") from None


def _tree_files(root: Path) -> list[Path]:
    """The regular files under `root`, links included only where they stay inside it (a link
    out of the tree is skipped with a warning: `push` uploads the tree, nothing beyond)."""
    import sys

    real_root = root.resolve()
    found = []
    for folder, dirs, names in os.walk(root):  # followlinks=False: linked folders skipped
        for name in sorted(names) + [d for d in dirs if (Path(folder) / d).is_symlink()]:
            path = Path(folder) / name
            if path.is_symlink() and real_root not in path.resolve().parents:
                print(f"warning: skipped {path}: a link out of {root} (to {path.resolve()})",
                      file=sys.stderr)
            elif path.is_file():
                found.append(path)
    return found


def upload(local: str | os.PathLike, uri: str, quiet: bool = False) -> list[str]:
    """Upload a file, or a directory tree under a prefix; ``config.json`` files go last.

    Returns the uploaded ``s3://`` URIs.
    """
    from tqdm.auto import tqdm

    local = Path(local)
    bucket, key = parse(uri)
    if local.is_dir():
        files = sorted((p for p in _tree_files(local) if p.name != MANIFEST),  # local only
                       key=lambda p: (p.name == "config.json", str(p)))
        keys = [f"{key.rstrip('/')}/{p.relative_to(local).as_posix()}".lstrip("/")
                for p in files]
    else:
        files = [local]
        keys = [f"{key}{local.name}" if not key or key.endswith("/") else key]
    c = client()
    done = []
    with tqdm(total=sum(p.stat().st_size for p in files), unit="B", unit_scale=True,
              desc=f"upload to s3://{bucket}", disable=True if quiet else None) as bar:
        for path, k in zip(files, keys, strict=True):
            with errors(f"s3://{bucket}/{k}", bucket):
                c.upload_file(str(path), bucket, k, Callback=bar.update)
            done.append(f"s3://{bucket}/{k}")
    return done
