"""Text preprocessing as scikit-learn transformers.

``NullImputer -> LowerCaser -> Tokenizer -> TokenIndexer -> Padder`` turns a column of raw
texts into a fixed-size ``int32`` matrix for the network. Each step follows the sklearn
contract (``__init__`` only stores arguments, ``fit`` returns ``self``, learned state ends in
``_``), so the chain is a plain :class:`sklearn.pipeline.Pipeline` that ``clone`` and
``joblib.dump`` handle; :func:`~.pipeline.make_pipeline` chains them.

Examples
--------
>>> from sklearn.pipeline import Pipeline
>>> pipe = Pipeline([("impute", NullImputer()), ("lower", LowerCaser()),
...                  ("tokenize", Tokenizer()), ("index", TokenIndexer()),
...                  ("pad", Padder(max_len=6))])  # ids: <pad>=0, <unk>=1, then by frequency
>>> pipe.fit_transform(["Great movie!", None]).tolist()
[[3, 4, 2, 0, 0, 0], [0, 0, 0, 0, 0, 0]]
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .patterns import (  # noqa: F401 (text.<name>: their old home)
    BLOG_PATTERN,
    DEFAULT_TOKEN_PATTERN,
    KNOWN_PATTERNS,
    SPLIT_PATTERNS,
    TOKEN_PATTERNS,
    compile_pattern,
)
from .vocab import PAD, UNK, Vocabulary  # noqa: F401 (text.PAD, text.UNK: their old home)


def text_list(X) -> list:
    """Accept a list, 1-D array, Series, or one-column 2-D array or DataFrame of texts; a
    single string is refused (iterating it would give one text per character)."""
    if isinstance(X, (str, bytes)):
        raise ValueError("expected a sequence of texts, got a single string (wrap it in a "
                         "list: [text])")
    if hasattr(X, "columns"):
        if X.shape[1] != 1:
            raise ValueError(f"expected one text column, got {X.shape[1]}")
        X = X.iloc[:, 0]
    elif getattr(X, "ndim", 1) == 2:  # an (n, 1) array: one text per row
        if X.shape[1] != 1:
            raise ValueError(f"expected one text per row, got an array of shape {X.shape}")
        X = X[:, 0]
    return list(X)


def is_missing(x) -> bool:
    """None, NaN, pd.NA, NaT: a missing text."""
    if x is None or isinstance(x, str):
        return x is None
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):  # an array-like cell is no missing value
        return False


CATEGORY_PREFIX = "xxcat"


def category_token(column: str, value) -> str:
    """The token that stands for `value` of categorical `column`, e.g. ``xxcat_device_used_
    mobile``: one word for the tokenizer, its own row in the embedding table."""
    missing = value is None or value != value or str(value).strip() == ""  # None, NaN, ""
    text = "missing" if missing else str(value)
    clean = re.sub(r"\W+", "_", f"{column}_{text}".lower()).strip("_")
    return f"{CATEGORY_PREFIX}_{clean}"


class _TextStep:
    """Declares to sklearn what the text steps take: one text (or token list) per row, not a
    numeric 2-D array; sklearn's shared checks then test them as such."""

    output_name = "text"  # the one column of set_output(transform="pandas")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        return tags

    def get_feature_names_out(self, input_features=None):
        """One column: the texts, tokens or ids of each row (what set_output names)."""
        return np.asarray([self.output_name], dtype=object)

    def _out(self, rows: list, X=None):
        """`rows` as they are; a Series like `X` if `X` is one (as the blog's steps return:
        ``X.apply(...)``); one DataFrame column of them after
        ``set_output(transform="pandas")`` (a list of token lists is no 2-D table)."""
        if getattr(self, "_sklearn_output_config", {}).get("transform") == "pandas":
            return pd.DataFrame({self.output_name: rows})
        if isinstance(X, pd.Series):
            return pd.Series(rows, index=X.index, name=X.name, dtype=object)
        return rows


def _rows(X) -> list:
    """Token or id lists, one per row: a list, or the one column of a DataFrame (a previous
    step's set_output(transform="pandas") output)."""
    return list(X.iloc[:, 0]) if hasattr(X, "columns") else list(X)


class NullImputer(_TextStep, TransformerMixin, BaseEstimator):
    """Replace missing texts (None, NaN, pd.NA) with `fill_value`; turn everything else into
    str. `strategy` is there for the blog's ``NullImputer(strategy="constant",
    fill_value="null")``; ``"constant"`` is the only strategy a text column has."""

    def __init__(self, fill_value: str = "", strategy: str = "constant"):
        self.fill_value = fill_value
        self.strategy = strategy

    def fit(self, X, y=None):
        if self.strategy != "constant":
            raise ValueError(f"NullImputer strategy must be 'constant' (texts have no mean or "
                             f"median), got {self.strategy!r}")
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> list[str]:
        check_is_fitted(self, "n_features_in_")
        return self._out([self.fill_value if is_missing(x) else str(x) for x in text_list(X)],
                         X)


class LowerCaser(_TextStep, TransformerMixin, BaseEstimator):
    """Lower-case every text (Unicode-aware ``str.lower``)."""

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> list[str]:
        check_is_fitted(self, "n_features_in_")
        return self._out([x.lower() for x in text_list(X)], X)


class Tokenizer(_TextStep, TransformerMixin, BaseEstimator):
    """Split texts into tokens with a regular expression, by one of three rules.

    `pattern` matches the tokens (by default words and single punctuation marks; a name from
    :data:`TOKEN_PATTERNS` or a regex). With `split_pattern`, the texts are split where it
    matches instead (``re.split``, empty pieces dropped). With `spaced_pattern`, each match
    is set apart by spaces and the text split on whitespace, as the blog's ``Tokenize`` does
    (``re.sub(pattern, r" \1 ", text).split()``: the matches become tokens). ``<br />``
    tags (IMDB) are removed first when `strip_html` is true.
    """

    output_name = "tokens"

    def __init__(self, pattern: str = DEFAULT_TOKEN_PATTERN, strip_html: bool = True,
                 split_pattern: str | None = None, spaced_pattern: str | None = None):
        self.pattern = pattern
        self.strip_html = strip_html
        self.split_pattern = split_pattern
        self.spaced_pattern = spaced_pattern

    def rule(self) -> tuple[str, str | None]:
        """``(kind, regex)``: kind ``pattern`` (match), ``split_pattern`` or
        ``spaced_pattern``, named as in :func:`pipeline_config`."""
        if getattr(self, "spaced_pattern", None) is not None:
            return "spaced_pattern", self.spaced_pattern
        if self.split_pattern is not None:
            return "split_pattern", self.split_pattern
        return "pattern", TOKEN_PATTERNS.get(self.pattern, self.pattern)

    def fit(self, X, y=None):
        self.regex_ = compile_pattern(self.rule()[1])
        return self

    def __getstate__(self):  # joblib/pickle: an RE2 regex does not pickle; its source does
        state = dict(super().__getstate__())  # a copy: the live object keeps its regex
        if "regex_" in state:
            state["regex_"] = None  # compiled again on load
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "regex_" in state:
            self.regex_ = compile_pattern(self.rule()[1])

    def transform(self, X) -> list[list[str]]:
        check_is_fitted(self, "regex_")
        html = re.compile(r"<[^>]{0,40}>")
        texts = text_list(X)
        if self.strip_html:
            texts = [html.sub(" ", t) for t in texts]
        kind, regex = self.rule()[0], self.regex_
        if kind == "spaced_pattern":
            spaced = r" \1 " if regex.groups else r" \g<0> "  # the blog's r' \1 '
            return self._out([regex.sub(spaced, t).split() for t in texts], X)
        if kind == "split_pattern":
            return self._out([[t for t in regex.split(text) if t] for text in texts], X)
        return self._out([regex.findall(t) for t in texts], X)


class Tokenize(Tokenizer):
    """The blog's tokenizer: ``Tokenize(split_pattern)`` puts spaces around every match of
    `split_pattern` and splits on whitespace, so with the blog's pattern (each punctuation
    mark, :data:`BLOG_PATTERN`, the default) ``"this is just an example."`` gives 6 tokens.
    A pandas Series in gives a Series of token lists out, as in the blog."""

    def __init__(self, split_pattern: str = BLOG_PATTERN, strip_html: bool = True):
        self.split_pattern = split_pattern
        self.strip_html = strip_html

    def rule(self) -> tuple[str, str | None]:
        return "spaced_pattern", self.split_pattern


class TokenIndexer(_TextStep, TransformerMixin, BaseEstimator):
    """Map tokens to integer ids with a vocabulary learned in `fit` (``vocab_``).

    Parameters
    ----------
    min_freq : int
        Tokens seen fewer times are left out (they map to ``<unk>``).
    max_size : int, optional
        Cap on the vocabulary size, ``<pad>`` and ``<unk>`` included.
    base_vocabulary : Vocabulary, optional
        Keep these tokens, in this order, and add only the new ones (vocabulary transfer).
    """

    output_name = "ids"

    def __init__(self, min_freq: int = 1, max_size: int | None = None, base_vocabulary=None):
        self.min_freq = min_freq
        self.max_size = max_size
        self.base_vocabulary = base_vocabulary

    def fit(self, X, y=None):
        counts = Counter(tok for tokens in _rows(X) for tok in tokens)
        self.vocab_ = Vocabulary.from_counts(
            counts, self.min_freq, self.max_size, base=self.base_vocabulary
        )
        return self

    def transform(self, X) -> list[list[int]]:
        check_is_fitted(self, "vocab_")
        return self._out([self.vocab_.lookup(tokens) for tokens in _rows(X)], X)


class Tok2Idx(TokenIndexer):
    """The blog's name for :class:`TokenIndexer`."""


class Ngrams(_TextStep, TransformerMixin, BaseEstimator):
    """Keep `max_tokens` tokens of each text and add their n-grams, up to order `n`, as
    tokens of their own (``"not good"``), each right after the token that ends it.

    ``["not", "good", "at", "all"]`` with ``n=2`` becomes ``["not", "good", "not good", "at",
    "good at", ...]``, so a :class:`Padder` of :func:`ngram_positions` columns keeps every
    n-gram of the kept tokens. The vocabulary, its transfer and the embedding treat n-grams
    like words: shared n-grams keep their vectors. ``truncation`` as in :class:`Padder`.
    """

    output_name = "tokens"

    def __init__(self, n: int = 2, max_tokens: int = 64, truncation: str = "post"):
        self.n = n
        self.max_tokens = max_tokens
        self.truncation = truncation

    def fit(self, X, y=None):
        if not 1 <= int(self.n) <= 4:
            raise ValueError(f"ngrams must be 1 to 4, got {self.n}")
        self.n_features_in_ = 1
        return self

    def kept(self, tokens: list) -> list:
        """The `max_tokens` tokens of a text this step keeps (its beginning, or its end with
        ``truncation="pre"``)."""
        keep = int(self.max_tokens)
        return tokens[:keep] if self.truncation == "post" else tokens[-keep:]

    def transform(self, X) -> list[list[str]]:
        check_is_fitted(self, "n_features_in_")
        n = int(self.n)
        out = []
        for tokens in _rows(X):
            tokens = self.kept(tokens)
            grams = []
            for i, token in enumerate(tokens):
                grams.append(token)
                grams += [" ".join(tokens[i + 1 - k:i + 1]) for k in range(2, min(n, i + 1) + 1)]
            out.append(grams)
        return self._out(out)


def ngram_positions(max_tokens: int, n: int) -> int:
    """Ids :class:`Ngrams` makes from `max_tokens` tokens: every k-gram, k = 1..n."""
    return sum(max(0, max_tokens - k + 1) for k in range(1, n + 1))


class Padder(_TextStep, TransformerMixin, BaseEstimator):
    """Cut or pad id lists to `max_len` columns of ``int32``: `truncation` ``"post"`` keeps
    a long text's beginning, ``"pre"`` its end; empty positions get `pad_value` (the
    vocabulary's ``<pad>``, 0), always at the end, so position 0 holds the first kept token."""

    def __init__(self, max_len: int = 64, truncation: str = "post", pad_value: int = 0):
        self.max_len = max_len
        self.truncation = truncation
        self.pad_value = pad_value

    def fit(self, X, y=None):
        if self.truncation not in ("post", "pre"):
            raise ValueError(f"truncation must be 'post' or 'pre', got {self.truncation!r}")
        if int(self.max_len) < 1:
            raise ValueError(f"max_len must be >= 1, got {self.max_len}")
        self.n_features_in_ = 1
        return self

    def get_feature_names_out(self, input_features=None):
        """``id_0 ... id_{max_len-1}``: one column per position."""
        return np.asarray([f"id_{i}" for i in range(int(self.max_len))], dtype=object)

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        rows = _rows(X)
        out = np.full((len(rows), self.max_len), self.pad_value, dtype=np.int32)
        for i, ids in enumerate(rows):
            ids = ids[: self.max_len] if self.truncation == "post" else ids[-self.max_len :]
            out[i, : len(ids)] = ids
        return out
