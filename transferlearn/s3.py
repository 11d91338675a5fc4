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
import tempfile
import threading
from pathlib import Path, PurePosixPath

from .errors import StorageError, redact

RETRIES = 5
CONNECT_TIMEOUT = 10
PARALLEL_DOWNLOADS = 8
CHUNK = 1 << 20


def read_timeout() -> float:
    """Seconds a stalled read waits (``$TRANSFERLEARN_S3_TIMEOUT``, default 20): with the
    retries, a server that stops sending gives one line in well under 2 minutes."""
    try:
        return max(0.1, float(os.environ.get("TRANSFERLEARN_S3_TIMEOUT", 20)))
    except ValueError:
        return 20.0


def parse(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``; the key may be empty or a prefix."""
    match = re.fullmatch(r"s3://([^/]+)/?(.*)", str(uri))
    if not match or not match.group(1):
        raise StorageError(f"not an s3:// location: {uri!r} (expected s3://bucket/key)")
    return match.group(1), match.group(2)


def cache_root() -> Path:
    """Where downloads are cached: ``$TRANSFERLEARN_CACHE`` or ``~/.cache/transferlearn``."""
    if os.environ.get("TRANSFERLEARN_CACHE"):
        return Path(os.environ["TRANSFERLEARN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "transferlearn"


def endpoint_url() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def _shown_endpoint() -> str:
    url = endpoint_url()
    return redact(url) if url else "the AWS S3 endpoint"


def _endpoint_key() -> str:
    """The cache's name for the endpoint (userinfo left out): the same bucket and key on two
    servers are two objects."""
    url = endpoint_url()
    return _digest(redact(url).rstrip("/").lower()) if url else "aws"


def _checked_endpoint() -> str | None:
    from urllib.parse import urlsplit

    url = endpoint_url()
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        ok = False
    if not ok:
        raise StorageError(f"invalid S3 endpoint URL {redact(url)!r}: expected "
                           "http(s)://host[:port] (AWS_ENDPOINT_URL or --endpoint-url)")
    return url


def client():
    """A boto3 S3 client with retries on transient errors and bounded timeouts."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is a requirement
        raise StorageError("s3:// locations need boto3: pip install boto3") from None
    config = Config(retries={"max_attempts": RETRIES, "mode": "standard"},
                    connect_timeout=CONNECT_TIMEOUT, read_timeout=read_timeout())
    url = _checked_endpoint()
    with errors("s3://"):
        return boto3.session.Session().client("s3", endpoint_url=url, config=config)


def _secrets() -> list[str]:
    values = [os.environ.get(k) for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                          "AWS_ACCESS_KEY_ID")]
    return [v for v in values if v and len(v) >= 4]


def scrub(text: str) -> str:
    """`text` with any credential from the environment replaced by ``***`` and the userinfo
    (``user:password@``) of any URL removed."""
    for secret in _secrets():
        text = text.replace(secret, "***")
    return redact(text)


@contextlib.contextmanager
def errors(uri: str, bucket: str | None = None):
    """Turn boto3/botocore exceptions raised in the block into a one-line StorageError."""
    import botocore.exceptions as bex
    from boto3.exceptions import Boto3Error

    try:
        yield
    except StorageError:
        raise
    except (bex.NoCredentialsError, bex.PartialCredentialsError):
        raise StorageError(
            f"no AWS credentials found for {uri}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or write ~/.aws/credentials") from None
    except bex.ProfileNotFound as exc:
        raise StorageError(f"AWS profile not found: {exc.kwargs.get('profile')!r}") from None
    except (bex.EndpointConnectionError, bex.ConnectTimeoutError,
            bex.ConnectionClosedError, bex.ReadTimeoutError) as exc:
        kind = "timed out" if "Timeout" in type(exc).__name__ else "unreachable"
        raise StorageError(f"S3 endpoint {kind}: cannot reach {_shown_endpoint()} for {uri} "
                           f"(after {RETRIES} attempts); check AWS_ENDPOINT_URL / "
                           "--endpoint-url and the network") from None
    except bex.ClientError as exc:
        raise StorageError(_client_error_message(exc, uri, bucket)) from None
    except bex.BotoCoreError as exc:
        raise StorageError(f"S3 error on {uri}: {_first_line(exc)}") from None
    except (Boto3Error, ValueError, ConnectionError, TimeoutError) as exc:
        # boto3's transfer errors, a malformed answer, a connection dropped mid-body
        raise StorageError(f"S3 error on {uri}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return scrub(lines[0][:300]) if lines else type(exc).__name__


def _client_error_message(exc, uri: str, bucket: str | None) -> str:
    err = exc.response.get("Error", {})
    code = str(err.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return f"S3 bucket not found: '{bucket or parse(uri)[0]}' (for {uri})"
    if code in ("NoSuchKey", "404", "NotFound") or status == 404:
        return f"S3 object not found: {uri}"
    if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
                "ExpiredToken", "InvalidClientTokenId"):
        return (f"S3 rejected the credentials ({code}) for {uri}: check the access key, "
                "secret and endpoint")
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled") or status == 403:
        return f"S3 access denied: {uri} (the credentials in use lack permission for it)"
    message = scrub(str(err.get("Message", "")).strip().splitlines()[0] if err.get("Message")
                    else "")
    return f"S3 error {code or status} on {uri}" + (f": {message}" if message else "")


def _missing(c, bucket: str, key: str) -> StorageError:
    """The right error for a 404 on `key`: the bucket or only the object is missing."""
    uri = f"s3://{bucket}/{key}"
    with errors(uri, bucket):
        try:
            c.head_bucket(Bucket=bucket)
        except Exception as exc:
            status = getattr(exc, "response", {}).get("ResponseMetadata", {})
            if status.get("HTTPStatusCode") == 404:
                return StorageError(f"S3 bucket not found: '{bucket}' (for {uri})")
            raise
    return StorageError(f"S3 object not found: {uri}")


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
                raise _missing(c, bucket, key) from None
            return _fetch_object(c, bucket, key, head["ETag"], head["ContentLength"], quiet)
    return _fetch_tree(c, bucket, key, quiet)


def _has_prefix(c, bucket: str, prefix: str) -> bool:
    return c.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0) > 0


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _object_cache(bucket: str, key: str, etag: str) -> Path:
    name = PurePosixPath(key).name or "object"
    tag = re.sub(r"[^A-Za-z0-9_-]", "", etag) or "none"
    return cache_root() / "s3" / _endpoint_key() / bucket / _digest(key) / tag / name


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
                   disable=quiet)
        progress = bar.update
    try:
        with errors(f"s3://{bucket}/{key}", bucket):
            encrypted = _download(c, bucket, key, tmp, progress, cancel)
        _verify(tmp, f"s3://{bucket}/{key}", "" if encrypted else etag, size)
        os.replace(tmp, path)
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
    tree = (cache_root() / "trees" / _endpoint_key() / bucket / _digest(prefix)
            / _digest(listing))
    if tree.is_dir():
        if not quiet:
            print(f"using cached s3://{bucket}/{prefix} ({len(objects)} objects, {tree})")
        return tree
    from tqdm.auto import tqdm

    tree.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tree-", dir=tree.parent))  # storage uses s3, not back
    try:
        with tqdm(total=sum(o["Size"] for o in objects), unit="B", unit_scale=True,
                  desc=f"download {len(objects)} objects", disable=quiet) as bar:
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
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
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
        files = sorted(_tree_files(local), key=lambda p: (p.name == "config.json", str(p)))
        keys = [f"{key.rstrip('/')}/{p.relative_to(local).as_posix()}".lstrip("/")
                for p in files]
    else:
        files = [local]
        keys = [f"{key}{local.name}" if not key or key.endswith("/") else key]
    c = client()
    done = []
    with tqdm(total=sum(p.stat().st_size for p in files), unit="B", unit_scale=True,
              desc=f"upload to s3://{bucket}", disable=quiet) as bar:
        for path, k in zip(files, keys, strict=True):
            with errors(f"s3://{bucket}/{k}", bucket):
                c.upload_file(str(path), bucket, k, Callback=bar.update)
            done.append(f"s3://{bucket}/{k}")
    return done
