"""S3 you can trust: a stalled server gives one line quickly, corrupted bytes never enter the
cache, Ctrl-C stops a tree download at once, the cache tells endpoints apart, userinfo never
reaches a message, push stays inside its tree, pull never removes what was there."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from s3fake import FakeS3
from test_s3 import new_bucket

from transferlearn.cli import data as datacmd
from transferlearn.errors import StorageError
from transferlearn.io.storage import local_path

CSV = b"text,label\n" + b"".join(b"review number %d,%s\n" % (i, b"pos" if i % 2 else b"neg")
                                 for i in range(20000))


@pytest.fixture
def fake_env(monkeypatch, tmp_path):
    """Talk to a fake server (set AWS_ENDPOINT_URL per test) with a fresh cache."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fakekey")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fakesecret0123")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("TRANSFERLEARN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def cached_files(cache: Path) -> list[str]:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file())


def test_a_stalled_server_gives_one_line_within_the_read_timeout(fake_env, monkeypatch):
    monkeypatch.setenv("TRANSFERLEARN_S3_TIMEOUT", "1")
    with FakeS3({"b/data.csv": CSV}, mode="stall") as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        start = time.monotonic()
        with pytest.raises(StorageError) as info:
            local_path("s3://b/data.csv", quiet=True)
    assert time.monotonic() - start < 30
    assert str(info.value).startswith("S3 endpoint timed out: cannot reach http://127.0.0.1:")
    assert cached_files(fake_env) == []


def test_bytes_that_do_not_match_the_etag_never_enter_the_cache(fake_env, monkeypatch):
    with FakeS3({"b/data.csv": CSV}, mode="corrupt") as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        with pytest.raises(StorageError, match="content does not match its ETag"):
            local_path("s3://b/data.csv", quiet=True)
    assert cached_files(fake_env) == []


def test_an_sse_kms_object_is_checked_by_size_not_by_its_etag(fake_env, monkeypatch):
    with FakeS3({"b/data.csv": CSV}, mode="kms") as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
        assert local_path("s3://b/data.csv", quiet=True).read_bytes() == CSV


def test_the_same_uri_on_two_endpoints_is_two_objects(fake_env, monkeypatch):
    other = CSV.replace(b"review", b"comment")
    with FakeS3({"b/data.csv": CSV}) as first, FakeS3({"b/data.csv": other}) as second:
        monkeypatch.setenv("AWS_ENDPOINT_URL", first.url)
        assert local_path("s3://b/data.csv", quiet=True).read_bytes() == CSV
        monkeypatch.setenv("AWS_ENDPOINT_URL", second.url)
        assert local_path("s3://b/data.csv", quiet=True).read_bytes() == other
        assert second.gets == ["b/data.csv"]


def _ctrl_c_as_at_a_terminal() -> None:
    """The child starts with Ctrl-C as a shell gives it: handled by default, not blocked
    (whatever the test process's libraries did to its own signal state)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_stops_a_stalled_tree_download_at_once(fake_env, tmp_path):
    objects = {f"b/tree/part-{i}.csv": CSV for i in range(3)}
    with FakeS3(objects, mode="stall") as server:
        env = {**os.environ, "AWS_ENDPOINT_URL": server.url, "TRANSFERLEARN_S3_TIMEOUT": "60"}
        process = subprocess.Popen(
            [sys.executable, "-m", "transferlearn.data", "pull", "s3://b/tree/",
             str(tmp_path / "dest"), "--quiet"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_ctrl_c_as_at_a_terminal)
        deadline = time.monotonic() + 60
        while len(server.gets) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(server.gets) == 3, "the downloads never started"
        time.sleep(1)  # the three reads are stalled now (they would wait 60 s)
        process.send_signal(signal.SIGINT)
        start = time.monotonic()
        try:
            out, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # say where the child was, then fail
            for task in sorted(Path(f"/proc/{process.pid}/task").glob("*")):
                status = (task / "status").read_text().splitlines()
                print(task.name, (task / "wchan").read_text(), [
                    line for line in status if line.startswith(("State", "Sig", "ShdPnd"))])
            process.kill()
            print(process.communicate())
            raise
    assert time.monotonic() - start < 5
    assert process.returncode == 130 and err.strip().splitlines() == ["interrupted"]
    assert cached_files(fake_env) == []
    assert not (tmp_path / "dest").exists()


@pytest.mark.parametrize("endpoint", ["user:hunter2pass@127.0.0.1:9",
                                      "http://user:hunter2pass@127.0.0.1:notaport",
                                      "ftp://user:hunter2pass@127.0.0.1:9"])
def test_userinfo_of_a_malformed_endpoint_never_reaches_the_user(endpoint, fake_env,
                                                                  movie_slice, tmp_path):
    from conftest import run_script

    env_before = dict(os.environ)
    result = run_script("train_base.py", "--data", "s3://b/data.csv", "--endpoint-url",
                        endpoint, "--out", tmp_path / "o", "--quiet")
    assert dict(os.environ) == env_before
    assert result.returncode == 2 and "hunter2pass" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: invalid S3 endpoint URL '")


def test_push_does_not_follow_links_out_of_the_tree(s3_env, tmp_path, capsys):
    bucket = new_bucket(s3_env)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    (tmp_path / "secret.txt").write_text("outside")
    (tmp_path / "secret_dir").mkdir()
    (tmp_path / "secret_dir" / "c.txt").write_text("outside")
    (tree / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (tree / "leakdir").symlink_to(tmp_path / "secret_dir")
    (tree / "inside.txt").symlink_to(tree / "a.txt")
    assert datacmd.main(["push", str(tree), f"s3://{bucket}/t/", "--quiet"]) == 0
    keys = sorted(o["Key"] for o in s3_env.client().list_objects_v2(
        Bucket=bucket, Prefix="t/")["Contents"])
    assert keys == ["t/a.txt", "t/inside.txt", "t/sub/b.txt"]
    err = capsys.readouterr().err
    assert f"warning: skipped {tree / 'leak.txt'}: a link out of {tree}" in err
    assert f"warning: skipped {tree / 'leakdir'}: a link out of {tree}" in err


def test_pull_into_an_existing_folder_keeps_what_was_there(s3_env, tmp_path):
    bucket = new_bucket(s3_env)
    client = s3_env.client()
    for key, body in (("p/a.txt", b"new a"), ("p/sub/b.txt", b"b")):
        client.put_object(Bucket=bucket, Key=key, Body=body)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    (dest / "a.txt").write_text("old a")  # the user's: replaced only with --overwrite
    assert datacmd.main(["pull", f"s3://{bucket}/p/", str(dest), "--quiet"]) == 2
    assert (dest / "a.txt").read_text() == "old a" and not (dest / "sub").exists()
    assert datacmd.main(["pull", f"s3://{bucket}/p/", str(dest), "--quiet",
                         "--overwrite"]) == 0
    assert (dest / "notes.txt").read_text() == "mine"
    assert (dest / "a.txt").read_bytes() == b"new a"
    assert (dest / "sub" / "b.txt").read_bytes() == b"b"
