import csv
import hashlib

import pandas as pd
import pytest

from transferlearn.data import BUNDLED, DATA_DIR, load_dataset, read_snippets
from transferlearn.data.splits import check_classes, split_train_test, take_labelled
from transferlearn.errors import DataError

SHA256 = {
    "movie_snippets": "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350",
    "amazon_snippets": "11a9807a0974a2506a2d3b4851eaf69b3d6d20688ce4923adda2312a4f6dd6c2",
}
ROWS = {"movie_snippets": 10_605, "amazon_snippets": 3_708}


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_files_are_the_published_bytes(name):
    digest = hashlib.sha256((DATA_DIR / BUNDLED[name]).read_bytes()).hexdigest()
    assert digest == SHA256[name]


@pytest.mark.parametrize("name", BUNDLED)
def test_snippet_row_counts_survive_quote_characters(name):
    path = DATA_DIR / BUNDLED[name]
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(rows) == ROWS[name]
    zeros = sum(float(r[1]) == 0.0 for r in rows)
    df = read_snippets(path)
    assert len(df) == ROWS[name] - zeros
    assert set(df["label"]) == {"positive", "negative"}
    assert (df.loc[df.label == "positive", "score"] > 0).all()
    assert (df.loc[df.label == "negative", "score"] < 0).all()


def test_default_csv_quoting_would_merge_amazon_rows():
    """The trap this loader avoids: pandas' default quoting merges rows of this file."""
    merged = pd.read_csv(DATA_DIR / BUNDLED["amazon_snippets"], sep="\t", header=None)
    assert len(merged) == 3_546


def test_neutral_band_drops_near_zero_scores():
    full = load_dataset("amazon_snippets")
    banded = load_dataset("amazon_snippets", neutral_band=0.5)
    assert len(banded) < len(full)
    assert (banded["score"].abs() > 0.5).all()


def test_csv_columns_are_guessed_and_labels_kept_as_strings(write_csv):
    path = write_csv("d.csv", pd.DataFrame({"id": [1, 2, 3], "review": ["a", None, "c"],
                                            "sentiment": [0, 1, 1]}))
    df = load_dataset(str(path))
    assert df.columns.tolist() == ["text", "label"]
    assert df["label"].tolist() == ["0", "1", "1"]
    assert df.attrs["n_empty_text"] == 1


def test_tsv_with_split_column_uses_it(write_csv):
    text = "text\tlabel\tsplit\na\tpos\ttrain\nb\tneg\ttrain\nc\tpos\ttest\nd\tneg\ttest\n"
    df = load_dataset(str(write_csv("d.tsv", text)))
    train, test = split_train_test(df)
    assert train["text"].tolist() == ["a", "b"] and test["text"].tolist() == ["c", "d"]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="file not found: .*nope.csv"):
        load_dataset(str(tmp_path / "nope.csv"))


def test_missing_column_lists_the_columns_found(write_csv):
    path = write_csv("d.csv", pd.DataFrame({"body": ["x"], "label": ["a"]}))
    with pytest.raises(DataError, match="columns found: body, label"):
        load_dataset(str(path))
    with pytest.raises(DataError, match="no text column 'words'"):
        load_dataset(str(path), text_col="words")


def test_empty_file_and_header_only(write_csv):
    with pytest.raises(DataError, match="empty"):
        load_dataset(str(write_csv("e.csv", "")))
    with pytest.raises(DataError, match="no rows"):
        load_dataset(str(write_csv("h.csv", "text,label\n")))


def test_a_row_with_more_fields_than_the_header_is_one_error(write_csv):
    """In the first row pandas would take the surplus field as an index and cut the text at
    its comma; in a later row its parser refuses it."""
    path = write_csv("r.csv", "text,label\nWhat a wonderful, moving film.,positive\n"
                              '"fine, quoted",negative\n')
    with pytest.raises(DataError, match=r"row 2 \(the header is row 1\) has 3 fields, the "
                                        r"header 2; quote texts that contain ','"):
        load_dataset(str(path))
    later = write_csv("l.csv", 'text,label\n"fine, quoted",negative\n'
                               "What a wonderful, moving film.,positive\n")
    with pytest.raises(DataError, match="Expected 2 fields in line 3, saw 3"):
        load_dataset(str(later))
    ok = write_csv("q.csv", 'text,label\n"What a wonderful, moving film.",positive\nb,negative\n')
    assert load_dataset(str(ok))["text"].tolist() == ["What a wonderful, moving film.", "b"]


def test_single_class_is_refused(write_csv):
    df = load_dataset(str(write_csv("d.csv", pd.DataFrame({"text": ["a", "b"],
                                                           "label": ["x", "x"]}))))
    with pytest.raises(DataError, match="only the label 'x'"):
        check_classes(df)


def test_take_labelled_is_stratified_and_checks_size():
    df = load_dataset("amazon_snippets")
    sample = take_labelled(df, 500, random_state=1)
    assert len(sample) == 500
    share = (sample["label"] == "positive").mean()
    assert abs(share - (df["label"] == "positive").mean()) < 0.01
    with pytest.raises(DataError, match="larger than"):
        take_labelled(df, len(df) + 1)


def test_a_run_reads_its_rows_as_its_settings_say():
    """One reader for every run: the settings' read fields (categorical included) reach
    load_data, and label names become class indices in the labels' order."""
    import numpy as np

    from transferlearn.config import BaseRun, TransferRun
    from transferlearn.data.loading import READ_SETTINGS, encode_labels, load_settings_data

    assert set(READ_SETTINGS) < {f for f in BaseRun.__dataclass_fields__}
    frame = pd.DataFrame({"words": ["good film", "bad film", "fine hotel", "poor hotel"],
                          "stars": ["hi", "lo", "hi", "lo"], "city": ["a", "b", "a", "b"]})
    settings = TransferRun(data=frame, text_col="words", label_col="stars",
                           categorical=["city"], verbose=False)
    df, labels = load_settings_data(settings, "amazon_snippets")
    assert labels == ["hi", "lo"] and len(df) == 4
    # the category became a token in front of the text
    assert df["text"].iloc[0].endswith("good film") and df["text"].iloc[0] != "good film"
    assert encode_labels(df["label"], labels, "x").tolist() == [0, 1, 0, 1]
    with pytest.raises(DataError, match=r"labels \['mid'\] are not among"):
        encode_labels(pd.Series(["hi", "mid"]), labels, "x")
    assert np.issubdtype(encode_labels(df["label"], labels, "x").dtype, np.integer)
