"""Shared, seeded fixtures: toy data, small real slices, a tiny trained base bundle."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent
# the package's folders by layer (lower numbers lower): a module may import its own layer and
# the ones below (tests/unit/test_architecture.py, tests/integration/test_imports_at_run_time.py)
LAYERS = {"": 0, "io": 1, "data": 2, "model": 3, "bundle": 4, "training": 5, "transfer": 6,
          "sklearn": 7, "experiments": 8, "cli": 9}


def toy_texts(n: int = 200, seed: int = 0):
    """A separable task: positive texts use one word set, negative texts another."""
    rng = np.random.RandomState(seed)
    pos, neg, filler = ["great", "good", "love"], ["awful", "bad", "hate"], ["the", "a", "it", "is"]
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(filler, size=rng.randint(2, 6)))
        words.insert(rng.randint(0, len(words) + 1), rng.choice(pos if label else neg))
        texts.append(" ".join(words))
        labels.append(label)
    return texts, np.array(labels)


@pytest.fixture(scope="session")
def movie_slice(tmp_path_factory) -> Path:
    """800 rows of the bundled movie snippets as a text,label CSV."""
    from transferlearn.data.readers import load_dataset

    df = load_dataset("movie_snippets").sample(800, random_state=0)
    path = tmp_path_factory.mktemp("data") / "movie_slice.csv"
    df[["text", "label"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def amazon_slice(tmp_path_factory) -> Path:
    """600 rows of the bundled Amazon snippets, gzipped, with other column names."""
    from transferlearn.data.readers import load_dataset

    df = load_dataset("amazon_snippets").sample(600, random_state=0)
    path = tmp_path_factory.mktemp("data") / "amazon_slice.csv.gz"
    df.rename(columns={"text": "review", "label": "sentiment"})[["review", "sentiment"]] \
        .to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def base_bundle(movie_slice, tmp_path_factory) -> Path:
    """A small base model trained on the movie slice (mean encoder, 2 epochs)."""
    from transferlearn import experiments

    out = tmp_path_factory.mktemp("runs") / "base"
    experiments.train_base(data=str(movie_slice), out=str(out), encoder="mean", embed_dim=16,
                        hidden_size=16, max_len=24, epochs=2, verbose=False)
    return out


# the smallest network a script trains: for runs whose result is not the point
TINY = ["--encoder", "mean", "--embed-dim", "8", "--hidden-size", "8", "--max-len", "16",
        "--epochs", "1", "--quiet"]


def device_reviews(n=120, labels=("pos", "neg")) -> pd.DataFrame:
    """Separable film reviews with a `device` column (a column that could play two roles)."""
    words = {0: "good great fine", 1: "bad awful poor"}
    return pd.DataFrame({"text": [f"the film {words[i % 2]} {i}" for i in range(n)],
                         "label": [labels[i % len(labels)] for i in range(n)],
                         "device": ["mobile", "desktop", "tablet"] * (n // 3) + [
                             "mobile"] * (n % 3)})


def hotel_frame(n, devices, seed) -> pd.DataFrame:
    """Hotel reviews in the Kaggle schema whose device column is a categorical feature."""
    rng = np.random.RandomState(seed)
    good = rng.rand(n) > 0.5
    words = np.where(good, "lovely clean friendly room", "dirty rude noisy room")
    return pd.DataFrame({"Description": words, "Device_Used": rng.choice(devices, n),
                         "Is_Response": np.where(good, "happy", "not happy")})


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty data folder of the downloader's, with no mirror set."""
    path = tmp_path / "data"
    monkeypatch.setenv("TRANSFERLEARN_DATA", str(path))
    monkeypatch.delenv("TRANSFERLEARN_DATA_URL", raising=False)
    return path


def synthetic_curve() -> pd.DataFrame:
    """A learning curve of 3 seeds where fine-tune beats scratch at 100 rows, loses at 1,000."""
    rows = []
    for seed in range(3):
        rows.append(("source-only", 0, seed, 0.60))
        for n, scratch, tuned in ((100, 0.60, 0.70), (1000, 0.80, 0.75)):
            rows += [("scratch", n, seed, scratch + 0.01 * seed),
                     ("fine-tune", n, seed, tuned + 0.01 * seed),
                     ("tfidf-logreg", n, seed, scratch - 0.05)]
    frame = pd.DataFrame(rows, columns=["strategy", "n_train", "seed", "accuracy"])
    return frame.assign(roc_auc=frame.accuracy, seconds=1.0)


def run_script(name: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run scripts/NAME as a user would, from the project root."""
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          env={**os.environ, "OMP_NUM_THREADS": "2"})


SCRIPT_MODULES = {"train_base.py": "train_base", "transfer.py": "transfer",
                  "pretrain.py": "pretrain"}


@pytest.fixture
def script_here(capsys):
    """scripts/NAME run in this process (its ``main`` with the script's name as ``prog``), as
    a CompletedProcess like :func:`run_script`'s: for checks that end before any work, where a
    new Python with MXNet would spend 1.5-2 s starting for a one-line error."""
    import importlib

    def run(name: str, *args) -> subprocess.CompletedProcess:
        module = importlib.import_module(f"transferlearn.cli.{SCRIPT_MODULES[name]}")
        try:
            code = module.main([str(a) for a in args], prog=name)
        except SystemExit as exc:  # argparse's own errors
            code = exc.code
        captured = capsys.readouterr()
        return subprocess.CompletedProcess([name, *args], code, captured.out, captured.err)

    return run


@pytest.fixture
def write_csv(tmp_path):
    def write(name: str, frame: pd.DataFrame | str) -> Path:
        path = tmp_path / name
        if isinstance(frame, str):
            path.write_text(frame, encoding="utf-8")
        else:
            frame.to_csv(path, index=False)
        return path

    return write


def shared_dirs() -> list[Path]:
    """Where the shared data sets may be: $TRANSFERLEARN_SHARED_DATA, ../shared/datasets next
    to the project, or the workplace's /work/shared/datasets (for clones elsewhere)."""
    dirs = [Path(os.environ["TRANSFERLEARN_SHARED_DATA"])] if os.environ.get(
        "TRANSFERLEARN_SHARED_DATA") else []
    return dirs + [ROOT.parent / "shared" / "datasets", Path("/work/shared/datasets")]


def shared_file(name: str) -> Path:
    """A file of the shared data sets; a clear failure (never a skip) when it is missing."""
    for directory in shared_dirs():
        if (directory / name).is_file():
            return directory / name
    pytest.fail(f"{name} not found in {', '.join(map(str, shared_dirs()))}: the tests read "
                "slices of the shared data sets (see shared/datasets/README.md); set "
                "TRANSFERLEARN_SHARED_DATA to their folder")


@pytest.fixture(scope="session")
def imdb_slice(tmp_path_factory) -> pd.DataFrame:
    """400 rows of the shared IMDB CSV (both splits, both labels, every original column)."""
    df = pd.read_csv(shared_file("imdb_reviews.csv.gz"))
    parts = [g.sample(100, random_state=0) for _, g in df.groupby(["split", "sentiment"])]
    return pd.concat(parts).reset_index(drop=True)


@pytest.fixture(scope="session")
def aclimdb_tree(imdb_slice, tmp_path_factory) -> Path:
    """An aclImdb-shaped tree ({train,test}/{pos,neg}/<id>_<rating>.txt) from the IMDB slice."""
    root = tmp_path_factory.mktemp("acl") / "aclImdb"
    for row in imdb_slice.itertuples():
        path = root / row.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(row.review.encode("utf-8"))
    (root / "README").write_text("Large Movie Review Dataset v1.0 (slice for tests)\n")
    (root / "train" / "unsup").mkdir()
    (root / "train" / "unsup" / "0_0.txt").write_text("unlabelled review")
    return root


@pytest.fixture(scope="session")
def hotel_slice(tmp_path_factory) -> Path:
    """The shared Deceptive Opinion Spam hotel reviews, 400 rows, gzipped CSV."""
    df = pd.read_csv(shared_file("hotel_reviews_deceptive_opinion.csv.gz"))
    path = tmp_path_factory.mktemp("data") / "hotel_slice.csv.gz"
    df.sample(400, random_state=0).to_csv(path, index=False)
    return path


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real SeaweedFS S3 server on loopback for the whole session (killed at the end)."""
    import s3server

    server = s3server.start(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch, tmp_path):
    """Talk to the test server as its admin, with a fresh download cache."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in s3_server.env().items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("TRANSFERLEARN_CACHE", str(tmp_path / "cache"))
    return s3_server


# tests/integration/ starts processes or servers (scripts end to end, S3, the distributed
# kvstore, notebooks, kills and resumes); tests/unit/ runs in this process (make test-fast).
def pytest_collection_modifyitems(config, items):
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder not in ("unit", "integration"):
            raise pytest.UsageError(f"{item.nodeid}: a test lives in tests/unit or "
                                    "tests/integration (the folder is its marker)")
        item.add_marker(getattr(pytest.mark, folder))
