"""`transferlearn data get` without a server: offline, copies already in the data folder,
the user's files kept, unknown names and bad pins refused."""
from __future__ import annotations

import gzip

import pytest
from conftest import shared_file

from transferlearn.cli.data import main as data_main
from transferlearn.data import download as dl
from transferlearn.data import load_dataset
from transferlearn.errors import DataError, StorageError


def test_offline_is_one_line_that_says_what_to_do(home, monkeypatch, capsys):
    monkeypatch.setenv("TRANSFERLEARN_DATA_URL", "http://127.0.0.1:9")  # nothing listens
    assert data_main(["get", "hotel"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot download http://127.0.0.1:9/"
                                               "deceptive-opinion.csv")
    assert f"put deceptive-opinion.csv in {home}" in err[0]


def test_a_copy_already_in_the_data_folder_is_used_without_a_server(home, monkeypatch):
    monkeypatch.setenv("TRANSFERLEARN_DATA_URL", "http://127.0.0.1:9")  # would fail
    home.mkdir()
    (home / "deceptive-opinion.csv").write_bytes(gzip.decompress(
        shared_file("hotel_reviews_deceptive_opinion.csv.gz").read_bytes()))
    assert dl.get("hotel", quiet=True) == home / "hotel_reviews.csv.gz"
    assert len(load_dataset("hotel")) == 1600


def test_the_shared_imdb_table_put_in_the_data_folder_is_used_as_it_is(home, monkeypatch):
    monkeypatch.setenv("TRANSFERLEARN_DATA_URL", "http://127.0.0.1:9")  # would fail
    home.mkdir()
    (home / "imdb_reviews.csv.gz").write_bytes(shared_file("imdb_reviews.csv.gz").read_bytes())
    assert dl.get("imdb", quiet=True) == home / "imdb_reviews.csv.gz"
    assert dl.path_of("imdb") == home / "imdb_reviews.csv.gz"


def test_a_users_file_of_the_same_name_is_not_replaced(home):
    home.mkdir()
    (home / "hotel_reviews.csv.gz").write_bytes(b"mine")
    with pytest.raises(StorageError, match="did not write it"):
        dl.get("hotel", quiet=True)
    assert (home / "hotel_reviews.csv.gz").read_bytes() == b"mine"


def test_a_name_not_downloaded_yet_says_how_to_get_it(home):
    with pytest.raises(DataError, match="imdb: not downloaded yet .* run: transferlearn data "
                                        "get imdb"):
        load_dataset("imdb")


def test_unknown_names_and_bad_pins_are_refused(home):
    with pytest.raises(DataError, match="unknown data set 'imbd'; .* knows imdb, hotel"):
        dl.get("imbd")
    assert dl.REGISTRY["imdb"].checksum == "md5:7c2ac02c03563afcf9b574c7e56c153a"
    assert dl.REGISTRY["imdb"].url.startswith("https://ai.stanford.edu/")
