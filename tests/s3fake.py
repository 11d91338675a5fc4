"""A hostile S3 imitation (stdlib only) for what SeaweedFS will not do: stall mid-body,
send bytes that do not match the ETag. Listens on 127.0.0.1, answers HEAD/GET of objects and
ListObjectsV2; every stall is bounded and ends when the server stops."""
from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape


class FakeS3:
    """``objects``: {"bucket/key": bytes}. ``mode``: "ok", "stall" (half the body, then
    silence), "corrupt" (same length, other bytes, the true ETag) or "kms" (an SSE-KMS
    object: intact bytes, an ETag that is not their MD5)."""

    def __init__(self, objects: dict, mode: str = "ok"):
        self.objects, self.mode = objects, mode
        self.gets: list[str] = []
        self.stop_event = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                fake.answer(self, body=False)

            def do_GET(self):
                fake.answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()

    def answer(self, handler, body: bool) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        path = parts.path.lstrip("/")
        if "list-type" in query:
            return self.listing(handler, path.rstrip("/"), query.get("prefix", [""])[0])
        data = self.objects.get(path)
        if data is None:
            handler.send_response(404)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(200)
        if self.mode == "kms":  # SSE-KMS: the ETag is no MD5 of the content
            handler.send_header("x-amz-server-side-encryption", "aws:kms")
            handler.send_header("ETag", f'"{hashlib.md5(data + b"kms").hexdigest()}"')
        else:
            handler.send_header("ETag", f'"{hashlib.md5(data).hexdigest()}"')
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Content-Type", "application/octet-stream")
        handler.end_headers()
        if not body:
            return
        self.gets.append(path)
        if self.mode == "stall":
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            self.stop_event.wait(120)  # silence until the test ends (bounded)
        elif self.mode == "corrupt":
            handler.wfile.write(bytes(b ^ 0x20 for b in data))
        else:
            handler.wfile.write(data)

    def listing(self, handler, bucket: str, prefix: str) -> None:
        entries = "".join(
            f"<Contents><Key>{escape(k.split('/', 1)[1])}</Key><Size>{len(v)}</Size>"
            f"<ETag>&quot;{hashlib.md5(v).hexdigest()}&quot;</ETag></Contents>"
            for k, v in sorted(self.objects.items())
            if k.startswith(f"{bucket}/{prefix}"))
        count = entries.count("<Contents>")
        xml = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
               'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
               f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{count}"
               f"</KeyCount><IsTruncated>false</IsTruncated>{entries}</ListBucketResult>")
        raw = xml.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/xml")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)
