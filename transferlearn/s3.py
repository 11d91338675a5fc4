"""``s3://`` reads and writes through boto3, with a local download cache.

Credentials, region and endpoint come from boto3's standard chain: environment variables
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL`` for
S3-compatible stores such as MinIO or SeaweedFS), ``~/.aws/config`` and ``~/.aws/credentials``.

Downloads are cached under ``$TRANSFERLEARN_CACHE`` (default ``~/.cache/transferlearn``) at
``s3/<bucket>/<hash of key>/<ETag>/<file name>``: a second run reuses the file while the
object is unchanged, and a changed object (new ETag) is downloaded again. A file appears
under its cache name only once complete (download to a temp file, then rename).

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from .errors import StorageError

RETRIES = 5
CONNECT_TIMEOUT = 10
READ_TIMEOUT = 60
PARALLEL_DOWNLOADS = 8


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
    if not url:
        return "the AWS S3 endpoint"
    return re.sub(r"//[^/@]*@", "//", url)  # never show user:password@ in an endpoint URL


def client():
    """A boto3 S3 client with retries on transient errors and bounded timeouts."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - boto3 is a requirement
        raise StorageError("s3:// locations need boto3: pip install boto3") from None
    config = Config(retries={"max_attempts": RETRIES, "mode": "standard"},
                    connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT)
    with errors("s3://"):
        return boto3.session.Session().client("s3", endpoint_url=endpoint_url(), config=config)


def _secrets() -> list[str]:
    values = [os.environ.get(k) for k in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                          "AWS_ACCESS_KEY_ID")]
    return [v for v in values if v and len(v) >= 4]


def scrub(text: str) -> str:
    """`text` with any credential from the environment replaced by ``***``."""
    for secret in _secrets():
        text = text.replace(secret, "***")
    return text


@contextlib.contextmanager
def errors(uri: str, bucket: str | None = None):
    """Turn boto3/botocore exceptions raised in the block into a one-line StorageError."""
    import botocore.exceptions as bex

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
        raise StorageError(f"S3 error on {uri}: {scrub(str(exc))}") from None


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
    return cache_root() / "s3" / bucket / _digest(key) / tag / name


def _fetch_object(c, bucket, key, etag, size, quiet, progress=None) -> Path:
    path = _object_cache(bucket, key, etag)
    if path.is_file() and path.stat().st_size == size:
        if not quiet and progress is None:
            print(f"using cached s3://{bucket}/{key} ({path})")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    bar = None
    if progress is None:
        from tqdm.auto import tqdm

        bar = tqdm(total=size, unit="B", unit_scale=True, desc=f"download {path.name}",
                   disable=quiet)
        progress = bar.update
    try:
        with errors(f"s3://{bucket}/{key}", bucket):
            c.download_file(bucket, key, tmp, Callback=progress)
        if os.path.getsize(tmp) != size:
            raise StorageError(f"s3://{bucket}/{key}: download incomplete "
                               f"({os.path.getsize(tmp)} of {size} bytes)")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        if bar is not None:
            bar.close()
    return path


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
    tree = cache_root() / "trees" / bucket / _digest(prefix) / _digest(listing)
    if tree.is_dir():
        if not quiet:
            print(f"using cached s3://{bucket}/{prefix} ({len(objects)} objects, {tree})")
        return tree
    from tqdm.auto import tqdm

    from .storage import replace_dir, temp_dir

    tree.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir(tree.parent, ".tree-")
    try:
        with tqdm(total=sum(o["Size"] for o in objects), unit="B", unit_scale=True,
                  desc=f"download {len(objects)} objects", disable=quiet) as bar:
            lock = threading.Lock()

            def update(n):
                with lock:
                    bar.update(n)

            def get(o):
                cached = _fetch_object(c, bucket, o["Key"], o["ETag"], o["Size"], True, update)
                target = tmp / _relative(o["Key"], prefix)
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(cached, target)
                except OSError:
                    shutil.copyfile(cached, target)

            with ThreadPoolExecutor(PARALLEL_DOWNLOADS) as pool:
                list(pool.map(get, objects))
        replace_dir(tmp, tree)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tree


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


def upload(local: str | os.PathLike, uri: str, quiet: bool = False) -> list[str]:
    """Upload a file, or a directory tree under a prefix; ``config.json`` files go last.

    Returns the uploaded ``s3://`` URIs.
    """
    from tqdm.auto import tqdm

    local = Path(local)
    bucket, key = parse(uri)
    if local.is_dir():
        files = sorted((p for p in local.rglob("*") if p.is_file()),
                       key=lambda p: (p.name == "config.json", str(p)))
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
