"""Every real data layout reads into the same text/label[/split] frame, or fails clearly."""
import tarfile

import pandas as pd
import pytest
from conftest import shared_file

from transferlearn.data import detect_format, load_dataset, read_aclimdb
from transferlearn.errors import DataError


def test_aclimdb_directory_matches_the_csv_it_came_from(aclimdb_tree, imdb_slice):
    df = load_dataset(aclimdb_tree.parent)  # the parent of aclImdb/ works too
    assert list(df.columns) == ["text", "label", "split"]
    assert len(df) == len(imdb_slice) == 400  # the unsup review is skipped
    assert df.groupby(["split", "label"]).size().tolist() == [100, 100, 100, 100]
    assert not df["text"].str.contains("<br", case=False).any()
    by_text = dict(zip(imdb_slice["review"].str.replace(r"<br\s*/?>", " ", regex=True),
                       imdb_slice["sentiment"], strict=True))
    assert all(by_text[t] == label for t, label in zip(df["text"], df["label"], strict=True))
    raw = read_aclimdb(aclimdb_tree)
    assert raw["rating"].between(1, 10).all()
    assert (raw.loc[raw.label == "positive", "rating"] >= 7).all()
    assert sorted(raw["file"]) == sorted(imdb_slice["file"])  # each review's own path


def test_aclimdb_archive_reads_like_the_directory(aclimdb_tree, tmp_path):
    archive = tmp_path / "aclImdb_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(aclimdb_tree, arcname="aclImdb")
    assert detect_format(archive) == "aclimdb"
    pd.testing.assert_frame_equal(load_dataset(archive), load_dataset(aclimdb_tree))


def test_shared_imdb_csv_keeps_the_official_split():
    df = load_dataset(shared_file("imdb_reviews.csv.gz"))
    assert len(df) == 50_000 and df.attrs["n_html_breaks"] == 29_200
    assert df["split"].value_counts().to_dict() == {"train": 25_000, "test": 25_000}
    assert set(df["label"]) == {"positive", "negative"}


def test_kaggle_imdb_csv_schemas(imdb_slice, write_csv):
    kaggle = write_csv("IMDB Dataset.csv", imdb_slice[["review", "sentiment"]])
    df = load_dataset(kaggle)
    assert list(df.columns) == ["text", "label"] and len(df) == 400
    numeric = imdb_slice.assign(text=imdb_slice.review,
                                label=(imdb_slice.sentiment == "positive").astype(int))
    df = load_dataset(write_csv("train.csv", numeric[["text", "label"]]))
    assert sorted(df["label"].unique()) == ["0", "1"]


def test_numeric_labels_come_back_as_the_users_labels(imdb_slice, write_csv, tmp_path):
    from transferlearn import experiments, load_bundle

    frame = pd.DataFrame({"text": imdb_slice.review,
                          "label": (imdb_slice.sentiment == "positive").astype(int) + 1})
    experiments.train_base(data=str(write_csv("stars.csv", frame)), out=str(tmp_path / "b"),
                        encoder="mean", embed_dim=8, hidden_size=8, max_len=32, epochs=1,
                        verbose=False)
    bundle = load_bundle(tmp_path / "b")
    assert bundle.labels == ["1", "2"]
    assert set(bundle.predict(["a fine film", "dreadful"])) <= {"1", "2"}


def test_deceptive_opinion_hotel_reviews_and_truthful_only(hotel_slice):
    df = load_dataset(hotel_slice)
    assert len(df) == 400 and set(df["label"]) == {"positive", "negative"}
    raw = pd.read_csv(hotel_slice)
    truthful = load_dataset(hotel_slice, truthful_only=True)
    assert len(truthful) == (raw["deceptive"] == "truthful").sum() < 400
    assert set(truthful["text"]) == set(raw.loc[raw.deceptive == "truthful", "text"])


def test_blog_kaggle_hotel_schema(write_csv):
    frame = pd.DataFrame({
        "User_ID": ["id1", "id2", "id3"],
        "Description": ["Great stay, lovely staff", "Dirty room and rude desk", "Fine"],
        "Browser_Used": ["Firefox", "Chrome", "Edge"], "Device_Used": ["Mobile", "Desktop",
                                                                       "Tablet"],
        "Is_Response": ["happy", "not happy", "happy"]})
    df = load_dataset(write_csv("hotel.csv", frame))
    assert df["label"].tolist() == ["happy", "not happy", "happy"]
    assert df["text"].tolist() == frame["Description"].tolist()


def test_parquet_and_other_delimiters(imdb_slice, tmp_path, write_csv):
    frame = imdb_slice[["review", "sentiment"]].head(50)
    frame.to_parquet(tmp_path / "reviews.parquet")
    df = load_dataset(tmp_path / "reviews.parquet")
    assert df["text"].tolist()[:3] == frame["review"].str.replace(
        r"<br\s*/?>", " ", regex=True).tolist()[:3]
    tsv_named_csv = write_csv("tabs.csv", "text\tlabel\nnice one\tpos\nbad one\tneg\n")
    assert load_dataset(tsv_named_csv)["label"].tolist() == ["pos", "neg"]
    semicolons = write_csv("semi.csv", "text;label\nnice, really;pos\nbad;neg\n")
    assert load_dataset(semicolons)["text"].tolist() == ["nice, really", "bad"]


def test_snippet_files_are_detected_by_content(write_csv):
    path = write_csv("mine.tsv", "1\t1.5\tA \"quoted\" fine line\n2\t-2\tawful\n")
    assert detect_format(path) == "snippets"
    assert load_dataset(path)["label"].tolist() == ["positive", "negative"]


@pytest.mark.parametrize("case, message", [
    ("dir", "not an aclImdb tree"),
    ("suffix", "unknown data format '.json'"),
    ("columns", "columns found: body, stars; expected one of: text, review"),
    ("truthful", "--truthful-only needs a 'deceptive' column"),
    ("archive", "cannot read the archive"),
])
def test_format_failures_say_what_was_found_and_expected(case, message, tmp_path, write_csv):
    if case == "dir":
        (tmp_path / "some_dir").mkdir()
        (tmp_path / "some_dir" / "a.txt").write_text("x")
        source, kwargs = tmp_path / "some_dir", {}
    elif case == "suffix":
        source, kwargs = write_csv("data.json", '{"text": "x"}'), {}
    elif case == "columns":
        source, kwargs = write_csv("c.csv", "body,stars\nnice,5\n"), {}
    elif case == "truthful":
        source, kwargs = write_csv("t.csv", "text,label\nnice,pos\nbad,neg\n"), {
            "truthful_only": True}
    else:
        source, kwargs = write_csv("broken.tar.gz", "not an archive"), {}
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_dataset(source, **kwargs)
