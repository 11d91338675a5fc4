"""Values are checked where they enter: every numeric flag has a range, a column plays one
role, compressed tables are read by content, and data too small to split says so. Each
bad value: one ``error:`` line, exit 2, before any training."""
from __future__ import annotations

import bz2
import gzip
import lzma
import math
import zipfile

import pandas as pd
import pytest
from conftest import TINY, device_reviews

from transferlearn import experiments
from transferlearn.checks import BOUNDS, check_value
from transferlearn.data.readers import load_dataset
from transferlearn.errors import DataError


def one_error(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("script,flag,value,expected", [
    ("train_base.py", "--seed", "-5", "must be an integer in [0, 4,294,967,295], got '-5'"),
    ("train_base.py", "--test-size", "0", "must be a number in (0, 1), got '0'"),
    ("train_base.py", "--test-size", "1.5", "must be a number in (0, 1), got '1.5'"),
    ("train_base.py", "--dropout", "2", "must be a number in [0, 1), got '2'"),
    ("train_base.py", "--lr", "nan", "must be a number > 0, got 'nan'"),
    ("train_base.py", "--lr", "inf", "must be a number > 0, got 'inf'"),
    ("train_base.py", "--epochs", "0", "must be an integer >= 1, got '0'"),
    ("transfer.py", "--temperature", "0", "must be a number > 0, got '0'"),
    ("transfer.py", "--alpha", "1.5", "must be a number in [0, 1], got '1.5'"),
    ("transfer.py", "--adapt-weight", "-1", "must be a number >= 0, got '-1'"),
])
def test_every_numeric_flag_has_a_range(script, flag, value, expected, script_here):
    message = one_error(script_here(script, flag, value))
    assert message == f"error: argument {flag}: {expected} (see {script} --help)"


def test_the_api_applies_the_same_ranges_before_any_work(tmp_path):
    with pytest.raises(DataError, match=r"^--lr must be a number > 0, got nan$"):
        experiments.train_base(lr=math.nan, out=str(tmp_path / "o"), verbose=False)
    with pytest.raises(DataError, match=r"--temperature must be a number > 0"):
        experiments.transfer(base=str(tmp_path / "none"), temperature=0.0, out=None)
    assert not (tmp_path / "o").exists()
    assert all(check_value(name, None) is None for name in BOUNDS)


@pytest.mark.parametrize("flags,expected", [
    (["--text-col", "text", "--label-col", "text"],
     "'text' is both the text and the label column"),
    (["--categorical", "device,label"], "--categorical names the label column 'label'"),
    (["--categorical", "text"], "--categorical names the text column 'text'"),
])
def test_a_column_plays_one_role(flags, expected, tmp_path, script_here):
    path = tmp_path / "d.csv"
    device_reviews().to_csv(path, index=False)
    message = one_error(script_here("train_base.py", "--data", path, "--out", tmp_path / "o",
                                    *flags, *TINY))
    assert expected in message
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip", "gzip named .csv"])
@pytest.mark.parametrize("sep", [",", "\t"])
def test_compressed_tables_are_read_by_content(kind, sep, tmp_path):
    frame = pd.DataFrame({"text": ['she said "fine, really"', "no\tthanks", "ok"] * 4,
                          "label": ["pos", "neg", "pos"] * 4})
    raw = frame.to_csv(sep=sep, index=False).encode()
    name = "table.tsv" if sep == "\t" else "table.csv"
    if kind == "zip":
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(name, raw)
    else:
        compress = {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress,
                    "gzip named .csv": gzip.compress}[kind]
        path = tmp_path / (name if kind.startswith("gzip") else f"{name}.{kind}")
        path.write_bytes(compress(raw))
    got = load_dataset(path, quiet=True)
    assert got["text"].tolist() == frame["text"].tolist()
    assert got["label"].tolist() == frame["label"].tolist()


@pytest.mark.parametrize("frame,expected", [
    (device_reviews(4), "4 rows in 2 classes are too few for a stratified test split of 0.2"),
    (device_reviews(1000, tuple(f"c{i}" for i in range(200))),
     "800 rows in 200 classes are too few for a stratified validation split of 0.1"),
])
def test_data_too_small_for_a_stratified_split_says_so(frame, expected, tmp_path, script_here):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    message = one_error(script_here("train_base.py", "--data", path, "--out", tmp_path / "o",
                                    *TINY))
    assert expected in message


def test_a_zstd_table_without_its_package_is_one_line(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 16)  # zstd magic; zstandard not installed
    with pytest.raises(DataError, match=r"zstd-compressed; reading it needs the zstandard"):
        load_dataset(path, quiet=True)


@pytest.mark.parametrize("call,message", [
    (lambda w: w.learning_curve(base="unused", repeats=0, out=None), "--repeats must"),
    (lambda w: w.compare(base="unused", tsne_points=0, out=None), "--tsne-points must"),
])
def test_the_options_of_compare_and_the_curve_are_checked_before_any_work(call, message):
    from transferlearn import experiments
    from transferlearn.errors import TransferLearnError

    with pytest.raises(TransferLearnError, match=message):
        call(experiments)
