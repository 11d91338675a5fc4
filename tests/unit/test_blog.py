"""The blog's preprocessing, as its post writes it, against the package's classes of the
same names: the same tokens and ids on the blog's example and on other punctuated texts, a
pandas Series in and out, and the joblib round trip the blog does."""
from __future__ import annotations

import re
import string

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from transferlearn.data import LowerCaser, NullImputer, Tok2Idx, Tokenize, make_pipeline
from transferlearn.data.patterns import BLOG_PATTERN
from transferlearn.data.pipeline import fitted_pipeline, pipeline_config

SPLIT_PATTERN = f"([{string.punctuation}])"  # the blog's pattern, as it writes it


# -- the blog's own classes (Step 1 of "Transfer Learning Using MXNet"): fillna, str.lower,
#    re.sub(pattern, r' \1 ', x).split(), a dict of token ids from the training texts --
class BlogNullImputer(BaseEstimator, TransformerMixin):
    def __init__(self, strategy="constant", fill_value="null"):
        self.strategy, self.fill_value = strategy, fill_value

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.fillna(self.fill_value)


class BlogLowerCaser(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.apply(lambda x: x.lower())


class BlogTokenize(BaseEstimator, TransformerMixin):
    def __init__(self, split_pattern):
        self.split_pattern = split_pattern

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.apply(lambda x: re.sub(self.split_pattern, r" \1 ", x).split())


def blog_pipeline(cls_null, cls_lower, cls_tokenize) -> Pipeline:
    return Pipeline([("null_impute", cls_null(strategy="constant", fill_value="null")),
                     ("lower_case", cls_lower()), ("tokenize", cls_tokenize(SPLIT_PATTERN))])


TEXTS = pd.Series([
    "This is just an example.",  # the blog's example: 6 tokens, 6 ids in its post
    None,
    "Great hotel, friendly staff!!! Would stay again :-)",
    "I didn't like it (at all); the room was dirty... 2/10",
    'He said "wow" -- $200/night & worth it? Yes: #1.',
    "Ünïcode café — naïve, “quoted” text",
], index=[10, 11, 12, 13, 14, 15], name="review")


def test_the_blog_pipeline_gives_the_blogs_tokens_on_its_example_and_other_texts():
    ours = blog_pipeline(NullImputer, LowerCaser, Tokenize)
    blogs = blog_pipeline(BlogNullImputer, BlogLowerCaser, BlogTokenize)
    got, want = ours.fit_transform(TEXTS), blogs.fit_transform(TEXTS)
    assert isinstance(got, pd.Series) and got.index.equals(TEXTS.index)
    assert got.tolist() == want.tolist()
    assert got[10] == ["this", "is", "just", "an", "example", "."]  # 6 tokens
    assert got[13][:4] == ["i", "didn", "'", "t"]


def test_each_blog_step_takes_and_returns_a_series_like_the_blogs():
    for ours, blogs in [(NullImputer(strategy="constant", fill_value="null"),
                         BlogNullImputer()), (LowerCaser(), BlogLowerCaser())]:
        x = TEXTS.fillna("null") if isinstance(ours, LowerCaser) else TEXTS
        pd.testing.assert_series_equal(ours.fit_transform(x), blogs.fit_transform(x),
                                       check_dtype=False)


def test_tok2idx_gives_one_id_per_blog_token_and_unknowns_for_new_ones(tmp_path):
    pipe = Pipeline(list(blog_pipeline(NullImputer, LowerCaser, Tokenize).steps)
                    + [("token2index", Tok2Idx())]).fit(TEXTS)
    ids = pipe.transform(TEXTS)
    vocab = pipe.named_steps["token2index"].vocab_
    assert [vocab.idx_to_token[i] for i in ids[10]] == ["this", "is", "just", "an", "example",
                                                         "."]
    joblib.dump(pipe, tmp_path / "pipeline.joblib")  # the blog saves its pipeline so
    again = joblib.load(tmp_path / "pipeline.joblib").transform(pd.Series(["An unseen word."]))
    assert [vocab.idx_to_token[i] for i in again.iloc[0]] == ["an", "<unk>", "<unk>", "."]


def test_a_bundle_keeps_the_blog_rule(tmp_path):
    pipe = make_pipeline(max_len=8, spaced_pattern=BLOG_PATTERN).fit(["This is just an example."])
    config = pipeline_config(pipe)
    assert config["spaced_pattern"] == BLOG_PATTERN and "split_pattern" not in config
    rebuilt = fitted_pipeline(config, pipe.named_steps["index"].vocab_)
    np.testing.assert_array_equal(rebuilt.transform(["Is it, just?"]),
                                  pipe.transform(["Is it, just?"]))
