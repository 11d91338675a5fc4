"""Categorical side features: each category a token in front of the text."""
import pandas as pd
import pytest
from conftest import hotel_frame

from transferlearn.data.readers import DataError, load_dataset, with_categories
from transferlearn.data.text import category_token


def test_category_tokens_go_in_front_of_the_text(tmp_path):
    path = tmp_path / "h.csv"
    hotel_frame(20, ["Mobile", "Desktop"], 0).to_csv(path, index=False)
    df = load_dataset(path, categorical=["Device_Used"])
    assert df["text"].str.match(r"^xxcat_device_used_(mobile|desktop) ").all()
    assert df.attrs["categories"] == {"Device_Used": ["Desktop", "Mobile"]}
    assert category_token("Browser Used", "Internet Explorer") == \
        "xxcat_browser_used_internet_explorer"
    assert category_token("x", None) == "xxcat_x_missing"
    with pytest.raises(DataError, match=r"categorical columns \['Nope'\] not found"):
        load_dataset(path, categorical=["Nope"])
    with pytest.raises(DataError, match="have no categorical columns"):
        load_dataset("movie_snippets", categorical=["x"])
    assert with_categories(pd.DataFrame({"text": ["a"], "c": ["B"]}), ["c"]).tolist() == \
        ["xxcat_c_b a"]
