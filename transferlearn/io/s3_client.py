"""The boto3 client for ``s3://`` locations: endpoint, retries and timeouts, and every
boto3/botocore failure turned into one :class:`~transferlearn.errors.StorageError` line
with no credential in it (see :mod:`transferlearn.io.s3`)."""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from ..checks import environment_value
from ..errors import StorageError, redact

RETRIES = 5


CONNECT_TIMEOUT = 10


def read_timeout() -> float:
    """Seconds a stalled read waits (``$TRANSFERLEARN_S3_TIMEOUT``, default 20, bounded by
    :data:`~transferlearn.checks.ENVIRONMENT`): with the retries, a server that stops
    sending gives one line in well under 2 minutes."""
    return float(environment_value("TRANSFERLEARN_S3_TIMEOUT", 20.0, StorageError))


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


def endpoint_key() -> str:
    """The cache's name for the endpoint (userinfo left out): the same bucket and key on two
    servers are two objects."""
    url = endpoint_url()
    return object_digest(redact(url).rstrip("/").lower()) if url else "aws"


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


def missing_error(c, bucket: str, key: str) -> StorageError:
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

def object_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
