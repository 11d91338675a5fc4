"""The bad-input matrix: each case gives one clear line and exit code 2 from the scripts, and a
typed exception from the API; nothing is written to --out."""
import importlib.util
import random

import pandas as pd
import pytest
from conftest import ROOT, TINY

from transferlearn import experiments
from transferlearn.data.readers import load_dataset
from transferlearn.errors import DataError, StorageError, TransferLearnError


def script(name):
    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def reviews(n=120, labels=("pos", "neg"), seed=0):
    rng = random.Random(seed)
    words = {"pos": ["good", "great", "fine"], "neg": ["bad", "awful", "poor"]}
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        vocab = words.get(label, ["meh", "okay"]) + ["the", "film", "it"]
        rows.append((" ".join(rng.choice(vocab) for _ in range(6)), label))
    return pd.DataFrame(rows, columns=["text", "label"])


def write(path, content):
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, pd.DataFrame):
        content.to_csv(path, index=False)
    else:
        path.write_text(content, encoding="utf-8")
    return path


CASES = {
    "missing file": (None, "error: file not found: {path} (bundled data sets: movie_snippets, "
                           "amazon_snippets)"),
    "empty file": (b"", "error: {path}: the file is empty"),
    "header only": ("text,label\n", "error: {path}: a header but no rows (columns: text, label)"),
    "undetectable delimiter": ("text label\nnice pos\n",
                               "error: {path}: cannot tell which column holds the text; columns "
                               "found: text label; expected one of: text, review, description, "
                               "sentence, content, comment; pass --text-col"),
    "no label column": ("review,stars\nnice,5\nbad,1\n",
                        "error: {path}: cannot tell which column holds the label; columns "
                        "found: review, stars; expected one of: label, sentiment, polarity, "
                        "is_response, target, class; pass --label-col"),
    "only one class": ("text,label\nnice,pos\ngood,pos\n",
                       "error: {path}: only the label 'pos'; a classifier needs at least two "
                       "classes"),
    "every text empty": ("text,label\n,pos\n  ,neg\n", "error: {path}: every text is empty"),
    "not UTF-8": (b"text,label\ngood,pos\ncaf\xe9 awful,neg\n",
                  "error: {path}: line 3 is not UTF-8 (invalid continuation byte at column 4); "
                  "convert the file, e.g. iconv -f latin1 -t utf-8"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_source_data(case, tmp_path, capsys):
    content, expected = CASES[case]
    path = tmp_path / "data.csv"
    if content is not None:
        write(path, content)
    code = script("train_base.py")(["--data", str(path), "--out", str(tmp_path / "out"), *TINY])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [expected.format(path=path)]
    assert not (tmp_path / "out").exists()
    with pytest.raises(TransferLearnError):
        experiments.train_base(data=str(path), out=str(tmp_path / "api"), verbose=False)


def test_zero_rows_after_filtering(tmp_path, capsys):
    code = script("train_base.py")(["--neutral-band", "5", "--out", str(tmp_path / "o"), *TINY])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and line.startswith("error: ") and line.endswith(
        "no rows left after dropping the 10,605 with |score| <= 5.0 (--neutral-band)")
    with pytest.raises(DataError, match="no rows left"):
        load_dataset("movie_snippets", neutral_band=5)


def test_semicolon_delimiter_is_detected(tmp_path):
    frame = reviews(60)
    path = tmp_path / "semi.csv"
    frame.to_csv(path, sep=";", index=False)
    pd.testing.assert_frame_equal(load_dataset(path)[["text", "label"]], frame)


def test_missing_and_empty_texts_are_imputed_and_counted(tmp_path, capsys):
    frame = reviews(120)
    frame.loc[[0, 1, 2], "text"] = None
    frame.loc[3, "text"] = "   "
    path = write(tmp_path / "holes.csv", frame)
    code = script("train_base.py")(["--data", str(path), "--out", str(tmp_path / "out"),
                                    *TINY[:-1]])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{path}: 4 empty or missing texts, imputed as ''" in out


def test_a_one_megabyte_review_is_truncated_not_a_memory_error(tmp_path):
    frame = reviews(120)
    frame.loc[0, "text"] = "great " * 180_000  # about 1 MB
    path = write(tmp_path / "huge.csv", frame)
    m = experiments.train_base(data=str(path), out=str(tmp_path / "out"), encoder="mean",
                            embed_dim=8, hidden_size=8, max_len=16, epochs=1, verbose=False)
    assert m["n_train"] > 0
    from transferlearn import load_bundle

    assert load_bundle(tmp_path / "out").transform([frame.loc[0, "text"]]).shape == (1, 16)


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    path = write(tmp_path_factory.mktemp("src") / "source.csv", reviews(200))
    out = tmp_path_factory.mktemp("base") / "base"
    experiments.train_base(data=str(path), out=str(out), encoder="mean", embed_dim=8,
                        hidden_size=8, max_len=16, epochs=1, verbose=False)
    return out


@pytest.mark.parametrize("labels", [("pos", "neg", "mixed"), ("happy", "not happy")])
def test_target_labels_the_base_never_saw_get_a_new_head(labels, tiny_base, tmp_path, capsys):
    path = write(tmp_path / "target.csv", reviews(150, labels))
    code = script("transfer.py")(["--base", str(tiny_base), "--data", str(path), "--out",
                                  str(tmp_path / "out"), "--epochs", "1",
                                  "--no-scratch-check"])
    out = capsys.readouterr().out
    assert code == 0
    assert (f"output layer replaced (target labels {sorted(labels)} differ from the base's "
            "['neg', 'pos'])") in out


def test_train_size_larger_than_the_data(tiny_base, tmp_path, capsys):
    path = write(tmp_path / "target.csv", reviews(100))
    code = script("transfer.py")(["--base", str(tiny_base), "--data", str(path), "--out",
                                  str(tmp_path / "out"), "--train-size", "500", "--quiet"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "error: train size 500 is larger than the 80 training rows available")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_unwritable_out_is_refused_before_any_work(where, tmp_path, capsys):
    blocker = write(tmp_path / "blocker", "x")
    out = blocker if where == "a file" else blocker / "run"
    code = script("train_base.py")(["--out", str(out), *TINY])
    expected = (f"error: cannot write results to {out}: it is a file, not a directory"
                if where == "a file" else
                f"error: cannot write results to {out}: {blocker} is a file")
    assert code == 2 and capsys.readouterr().err.strip() == expected
    with pytest.raises(StorageError):
        experiments.train_base(out=str(out), verbose=False)
