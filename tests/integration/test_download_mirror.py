"""`transferlearn data get` from a server (here a local HTTP server serving the shared
copies), checked against a checksum, prepared once, then `--data NAME`."""
from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
from conftest import shared_file

from transferlearn.cli.data import main as data_main
from transferlearn.data import download as dl
from transferlearn.data import load_dataset


class Quiet(SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):
        Quiet.requests.append(self.path)


@pytest.fixture
def served(tmp_path):
    """A directory served over HTTP on loopback: (directory, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Quiet.requests = []
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hotel_comes_from_the_mirror_checked_against_the_pinned_sha256(served, home,
                                                                        monkeypatch, capsys):
    root, url = served
    original = gzip.decompress(shared_file("hotel_reviews_deceptive_opinion.csv.gz")
                               .read_bytes())
    (root / "deceptive-opinion.csv").write_bytes(original)  # the file the pin names
    monkeypatch.setenv("TRANSFERLEARN_DATA_URL", url)
    assert data_main(["get", "hotel", "--quiet"]) == 0
    out = home / "hotel_reviews.csv.gz"
    assert capsys.readouterr().out.strip() == str(out)
    assert gzip.decompress(out.read_bytes()) == original
    df = load_dataset("hotel")  # the name now reads the prepared file
    assert len(df) == 1600 and df["label"].value_counts().to_dict() == {"negative": 800,
                                                                         "positive": 800}
    # a second get uses the copy: no request
    Quiet.requests = []
    assert data_main(["get", "hotel", "--quiet"]) == 0
    assert Quiet.requests == []


def test_a_download_that_does_not_match_its_pin_is_not_kept(served, home, monkeypatch,
                                                            capsys):
    root, url = served
    (root / "deceptive-opinion.csv").write_text("text,polarity\nnot the corpus,positive\n")
    monkeypatch.setenv("TRANSFERLEARN_DATA_URL", url)
    assert data_main(["get", "hotel"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "does not match its pinned sha256:1a64b1f7" in \
        err[-1]
    assert not [p for p in home.iterdir() if p.name != ".transferlearn.json"]


def aclimdb_archive(slice_: pd.DataFrame, path: Path) -> Path:
    """An aclImdb_v1.tar.gz of the slice's reviews, under their original file names."""
    with tarfile.open(path, "w:gz") as tar:
        for row in slice_.itertuples():
            data = row.review.encode("utf-8")
            info = tarfile.TarInfo(f"aclImdb/{row.file}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        unsup = tarfile.TarInfo("aclImdb/train/unsup/0_0.txt")
        unsup.size = 1
        tar.addfile(unsup, io.BytesIO(b"x"))
    return path


def test_imdb_archive_becomes_the_table_of_the_shared_copy(served, home, imdb_slice,
                                                           monkeypatch):
    root, url = served
    archive = aclimdb_archive(imdb_slice, root / "aclImdb_v1.tar.gz")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    # the shared CSV's rows in its order (split, label, numeric id), written as it was
    want = imdb_slice.assign(id=imdb_slice["file"].str.extract(r"/(\d+)_")[0].astype(int))
    want = want.sort_values(["split", "sentiment", "id"], ascending=[False, True, True])
    table = want.drop(columns="id").to_csv(index=False).encode()
    spec = dl.Remote("imdb", f"{url}/aclImdb_v1.tar.gz", f"md5:{md5}", "imdb_reviews.csv.gz",
                     "a slice", "this test", dl.imdb_table, hashlib.sha256(table).hexdigest())
    monkeypatch.setitem(dl.REGISTRY, "imdb", spec)
    out = dl.get("imdb", quiet=True)
    assert gzip.decompress(out.read_bytes()) == table  # byte for byte
    df = load_dataset("imdb")
    assert set(df["split"]) == {"train", "test"} and len(df) == len(imdb_slice)
