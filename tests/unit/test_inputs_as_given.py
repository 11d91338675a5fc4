"""Inputs as users pass them, and nothing from a bundle run or followed blindly: pipes and
FIFOs, empty and non-UTF-8 input, one text per line, numeric flags and variables in bounds,
non-finite vectors, source counts, tokenizer patterns that are slow only on other texts, and
a bundle's pointer to its training data. Each case: the right result, or one ``error:`` line
and exit code 2, fast."""
from __future__ import annotations

import io
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_untrusted import reseal
from test_writers import cli, one_error

from transferlearn.errors import DataError


@pytest.fixture
def texts(tmp_path) -> Path:
    path = tmp_path / "texts.txt"
    path.write_text("a fine film\nawful\n")
    return path


def writer(path: Path, data: bytes, delay: float = 0.2) -> threading.Thread:
    """Write `data` into the FIFO `path` from another thread (as `cat data > fifo` would)."""

    def write():
        time.sleep(delay)
        with open(path, "wb") as handle:
            handle.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_fifo_with_a_writer_is_read_as_a_stream(tmp_path, base_bundle, capsys):
    fifo = tmp_path / "texts.txt"
    os.mkfifo(fifo)
    thread = writer(fifo, b"a fine film\nawful\nboring\n")
    code, out, err = cli(capsys, "predict", "--bundle", base_bundle, "--input", fifo)
    thread.join(5)
    assert code == 0, err
    assert out.splitlines()[1:] and [line.split(",")[0] for line in out.splitlines()[1:]] == [
        "a fine film", "awful", "boring"]


def test_a_pipe_as_process_substitution_gives_it_is_read_once(tmp_path, base_bundle,
                                                              capsys, movie_slice):
    """``--data <(cat data.csv)``: the shell passes /dev/fd/N, a pipe whose writer may be
    done already; every byte arrives, read once."""
    read_end, write_end = os.pipe()
    data = Path(movie_slice).read_bytes()[:20_000].rsplit(b"\n", 1)[0] + b"\n"
    thread = threading.Thread(target=lambda: (os.write(write_end, data), os.close(write_end)),
                              daemon=True)
    thread.start()
    try:
        code, out, err = cli(capsys, "data", "describe", f"/dev/fd/{read_end}")
    finally:
        os.close(read_end)
    assert code == 0, err
    assert f"rows     {len(pd.read_csv(io.BytesIO(data))):,}\n" in out


def test_a_fifo_with_no_writer_is_empty_within_seconds(tmp_path, base_bundle, capsys):
    fifo = tmp_path / "nobody.csv"
    os.mkfifo(fifo)
    start = time.monotonic()
    message = one_error(capsys, "evaluate", "--bundle", base_bundle, "--data", fifo)
    assert message == f"error: {fifo}: the file is empty"  # the user's name, not a temp copy
    assert time.monotonic() - start < 5


def test_a_device_is_refused(base_bundle, capsys):
    message = one_error(capsys, "predict", "--bundle", base_bundle, "--input", "/dev/zero")
    assert message == "error: /dev/zero: not a regular file or directory (a device); give a file"


@pytest.mark.parametrize("content,name", [(b"", "empty.txt"), (b"text\n", "header.csv"),
                                          (b"\n\n", "blank.txt")])
def test_empty_input_predicts_nothing(tmp_path, blend_bundle, capsys, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = cli(capsys, "predict", "--bundle", blend_bundle, "--input", path)
    assert code == 0, err
    assert out == "text,label,p_negative,p_positive\n"


def test_empty_stdin_predicts_nothing(blend_bundle, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    code, out, err = cli(capsys, "predict", "--bundle", blend_bundle, "--input", "-")
    assert (code, out) == (0, "text,label,p_negative,p_positive\n"), err


def test_non_utf8_is_named_the_same_way_on_every_path(tmp_path, base_bundle, capsys,
                                                      monkeypatch):
    raw = b"fine\ncaf\xe9 au lait\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = tmp_path / "labels.csv"
    message = one_error(capsys, "predict", "--bundle", base_bundle, "--input", "-", "--out", out)
    assert message == ("error: stdin: line 2 is not UTF-8 (invalid continuation byte at "
                       "column 4); convert the file, e.g. iconv -f latin1 -t utf-8")
    (tmp_path / "in.txt").write_bytes(raw)
    (tmp_path / "in.csv").write_bytes(b"text\n" + raw)
    for name, line in (("in.txt", 2), ("in.csv", 3)):
        message = one_error(capsys, "predict", "--bundle", base_bundle, "--input",
                            tmp_path / name)
        assert message.startswith(f"error: {tmp_path / name}: line {line} is not UTF-8")
    assert not out.exists()


def test_a_txt_file_is_one_text_per_line_whatever_the_lines_look_like(tmp_path, base_bundle,
                                                                      capsys):
    path = tmp_path / "in.txt"
    path.write_text("1\t0.5\tgood\n2\t0\tmeh\n3\t-1.2\tbad\n")  # looks like snippets
    code, out, err = cli(capsys, "predict", "--bundle", base_bundle, "--input", path)
    assert code == 0, err
    assert len(out.splitlines()) == 4  # header and 3 rows: one per line, none dropped
    path.write_text("a\ttab in the first line\nsecond\n")
    code, out, err = cli(capsys, "predict", "--bundle", base_bundle, "--input", path)
    assert code == 0 and len(out.splitlines()) == 3, err


@pytest.mark.parametrize("flags,message", [
    (["--batch-size", "0"], "argument --batch-size: must be an integer >= 1, got '0'"),
    (["--batch-size", "-1"], "argument --batch-size: must be an integer >= 1, got '-1'"),
])
def test_predict_flags_are_bounded(texts, base_bundle, capsys, flags, message):
    got = one_error(capsys, "predict", "--bundle", base_bundle, "--input", texts, *flags)
    assert message in got


def test_evaluate_worst_is_bounded_and_an_unlabelled_row_is_named(tmp_path, base_bundle,
                                                                  capsys):
    data = tmp_path / "lab.csv"
    data.write_text("text,label\ngood film,positive\nno label here,\nbad,negative\n")
    assert "argument --worst: must be an integer in [0, 10,000], got '-3'" in one_error(
        capsys, "evaluate", "--bundle", base_bundle, "--data", data, "--worst", "-3")
    assert one_error(capsys, "evaluate", "--bundle", base_bundle, "--data", data) == (
        f"error: {data}: 1 row without a label (data row 2, counting from 1); evaluate "
        "scores every row: label or remove them")


@pytest.mark.parametrize("value", ["inf", "1e12", "abc", "-1"])
def test_the_s3_timeout_variable_is_bounded(monkeypatch, value):
    from transferlearn.errors import StorageError
    from transferlearn.io.s3_client import read_timeout

    monkeypatch.setenv("TRANSFERLEARN_S3_TIMEOUT", value)
    with pytest.raises(StorageError, match=rf"^\$TRANSFERLEARN_S3_TIMEOUT must be a number in "
                                           rf"\[0.1, 3600\], got '{value}'$"):
        read_timeout()
    monkeypatch.setenv("TRANSFERLEARN_S3_TIMEOUT", "2.5")
    assert read_timeout() == 2.5


def test_pretrain_with_no_tokens_or_too_high_a_min_count_says_so(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert one_error(capsys, "pretrain", "--data", empty, "--out", tmp_path / "v1",
                     "--quiet") == (f"error: {empty}: no tokens to learn vectors from (the "
                                    "texts are empty)")
    message = one_error(capsys, "pretrain", "--data", "movie_snippets", "--out",
                        tmp_path / "v2", "--quiet", "--min-count", "100000")
    assert re.fullmatch(r"error: no token occurs --min-count 100,000 times \(the most "
                        r"frequent, '.+', occurs [\d,]+\); lower --min-count", message)
    assert not (tmp_path / "v2").exists()


def test_non_finite_vectors_are_refused_naming_the_row(tmp_path, movie_slice, capsys):
    vectors = tmp_path / "v.vec"
    vectors.write_text("3 4\nthe 0.1 0.2 0.3 0.4\nfilm nan 0.2 0.3 0.4\ngood 1 inf 0 0\n")
    message = one_error(capsys, "train-base", "--data", movie_slice, "--init-vectors", vectors,
                        "--embed-dim", "4", "--out", tmp_path / "b", "--quiet")
    assert message == (f"error: {vectors}: the vector of 'film' (vector 2 of the file) is not "
                       "finite (nan or inf); 2 such vectors in all")
    assert not (tmp_path / "b").exists()


def test_more_sources_than_a_bundle_holds_are_refused_at_once(base_bundle, movie_slice,
                                                              tmp_path, capsys):
    sources = ",".join([str(movie_slice)] * 9)
    start = time.monotonic()
    message = one_error(capsys, "transfer", "--base", base_bundle, "--data", movie_slice,
                        "--strategy", "prior", "--source-data", sources, "--out",
                        tmp_path / "t", "--quiet")
    assert message == ("error: --source-data names 9 sources; at most 8 (a bundle carries at "
                       "most that many source models)")
    assert time.monotonic() - start < 5 and not (tmp_path / "t").exists()


# A pattern that is fast on the probes a timed check would try, and exponential on Python's
# re for 'b' * n + '!' (the 'c' never comes): RE2 runs it in linear time.
SLOW_ELSEWHERE = r"(?:b+)+c|\w+|[^\w\s]"


@pytest.mark.parametrize("field", ["pattern", "split_pattern"])
def test_a_pattern_slow_only_on_other_texts_runs_in_linear_time(base_bundle, tmp_path, field):
    from transferlearn.bundle.store import load_bundle

    bundle = tmp_path / "bundle"
    shutil.copytree(base_bundle, bundle)
    config = json.loads((bundle / "config.json").read_text())
    config["preprocessing"][field] = SLOW_ELSEWHERE
    reseal(bundle, config)
    loaded = load_bundle(bundle)
    start = time.monotonic()
    proba = loaded.predict_proba(["b" * 40 + "!", "b" * 5000 + "!" + "b" * 5000])
    assert time.monotonic() - start < 5 and proba.shape == (2, 2)
    short = "bbb! x, y"  # on short ASCII texts RE2 and Python's re agree
    expected = (re.findall(SLOW_ELSEWHERE, short) if field == "pattern" else
                [t for t in re.split(SLOW_ELSEWHERE, short) if t])
    assert loaded.pipeline.named_steps["tokenize"].transform([short])[0] == expected


def test_custom_patterns_train_and_pickle_on_re2(tmp_path):
    import joblib

    from transferlearn.data.text import Tokenizer

    tok = Tokenizer(pattern=r"[a-z]+").fit(["x"])
    assert tok.transform(["ab1cd"])[0] == ["ab", "cd"]
    joblib.dump(tok, tmp_path / "tok.joblib")
    assert joblib.load(tmp_path / "tok.joblib").transform(["ab1cd"])[0] == ["ab", "cd"]
    with pytest.raises(ValueError, match="cannot run in linear time"):
        Tokenizer(pattern=r"(\w)\1").fit(["x"])


@pytest.fixture
def pointed_base(base_bundle, tmp_path):
    """A copy of the base whose config says it was trained on `data` (digests recomputed,
    as an attacker would)."""
    def point(data: str, keep_record: bool = False) -> Path:
        bundle = tmp_path / f"base-{abs(hash(data))}"
        shutil.copytree(base_bundle, bundle)
        config = json.loads((bundle / "config.json").read_text())
        config["training"]["data"] = data
        if not keep_record:
            config.pop("training_data", None)
        reseal(bundle, config)
        return bundle

    return point


def test_a_bundle_cannot_point_a_run_at_other_files(pointed_base, tmp_path, movie_slice):
    from transferlearn.bundle.store import load_bundle
    from transferlearn.experiments.priors import source_data_of

    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    other = tmp_path / "private.csv"
    other.write_text("text,label\nmy secret words,positive\nmore,negative\n")
    for data, message in ((str(tmp_path / "zero.csv"), "not a regular file"),
                          (str(other), "does not record what its training data"),
                          ("/", "a directory, but not an aclImdb tree")):
        bundle = load_bundle(pointed_base(data))
        start = time.monotonic()
        with pytest.raises(DataError, match=message):
            source_data_of(bundle, None)
        assert time.monotonic() - start < 2
    # the real record, but the file changed since: refused
    changed = tmp_path / "changed.csv"
    shutil.copy(movie_slice, changed)
    bundle = load_bundle(pointed_base(str(changed), keep_record=True))
    bundle.config["training_data"] = [{"source": str(changed), "bytes": changed.stat().st_size,
                                       "sha256": "0" * 64}]
    with pytest.raises(DataError, match=r"changed since the base was trained \(sha256\)"):
        source_data_of(bundle, None)
    assert source_data_of(bundle, str(movie_slice))[0] == str(movie_slice)  # explicit: read


def test_the_base_records_its_training_data_and_a_transfer_rereads_it(base_bundle,
                                                                      movie_slice):
    from transferlearn.bundle.store import load_bundle
    from transferlearn.experiments.priors import source_data_of
    from transferlearn.io.manifest import file_sha256

    bundle = load_bundle(base_bundle)
    assert bundle.config["training_data"] == [{
        "source": str(movie_slice), "bytes": Path(movie_slice).stat().st_size,
        "sha256": file_sha256(movie_slice)}]
    assert source_data_of(bundle, None)[0] == str(movie_slice)


def test_a_linear_json_link_and_bad_content_are_named_as_such(blend_bundle, tmp_path):
    from transferlearn.bundle.store import load_bundle
    from transferlearn.errors import BundleError

    linked = tmp_path / "linked"
    shutil.copytree(blend_bundle, linked)
    (linked / "linear.json").unlink()
    (linked / "linear.json").symlink_to("/dev/zero")
    with pytest.raises(BundleError, match=r"linear.json: a link out of the bundle"):
        load_bundle(linked)
    bad = tmp_path / "bad"
    shutil.copytree(blend_bundle, bad)
    linear = json.loads((bad / "linear.json").read_text())
    linear["mixture"][0]["weight"] = 7
    (bad / "linear.json").write_text(json.dumps(linear))
    reseal_all(bad)
    with pytest.raises(BundleError, match=r"/linear.json: ensemble mixture weight must be a "
                                          r"number in \[0, 1\], got 7$"):
        load_bundle(bad)


def reseal_all(bundle: Path) -> None:
    """Record the current digest of every file config.json lists, and its own."""
    from transferlearn.bundle.schema import config_digest
    from transferlearn.io.manifest import file_sha256

    config = json.loads((bundle / "config.json").read_text())
    config["sha256"] = {name: file_sha256(bundle / name) for name in config["sha256"]}
    config.pop("config_sha256")
    config["config_sha256"] = config_digest(config)
    (bundle / "config.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def blend_bundle(base_bundle, amazon_slice, tmp_path_factory) -> Path:
    """A small blend bundle (one grid point: the network, TF-IDF and the prior)."""
    from transferlearn import experiments
    from transferlearn.experiments import selection

    out = tmp_path_factory.mktemp("blend") / "b"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(selection, "WEIGHTS", np.array([0.25]))
        experiments.transfer(base=str(base_bundle), data=str(amazon_slice), train_size=120,
                             strategy="blend", epochs=1, out=str(out), verbose=False)
    return out
