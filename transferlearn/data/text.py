"""Text preprocessing as scikit-learn transformers.

``NullImputer -> LowerCaser -> Tokenizer -> TokenIndexer -> Padder`` turns a column of raw
texts into a fixed-size ``int32`` matrix for the network. Each step follows the sklearn
contract (``__init__`` only stores arguments, ``fit`` returns ``self``, learned state ends in
``_``), so the chain is a plain :class:`sklearn.pipeline.Pipeline` that ``clone`` and
``joblib.dump`` handle.

Examples
--------
>>> pipe = make_pipeline(max_len=6)  # ids: <pad>=0, <unk>=1, then by frequency
>>> pipe.fit_transform(["Great movie!", None]).tolist()
[[3, 4, 2, 0, 0, 0], [0, 0, 0, 0, 0, 0]]
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

PAD = "<pad>"
UNK = "<unk>"
# Words (keeping inner apostrophes: "don't", "he's") or single punctuation marks.
DEFAULT_TOKEN_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"
# Named tokenizer patterns: a Tokenizer takes a name or a regex; a bundle's pattern is used
# as is only when it is one of these (any other is probed first, see bundle_schema).
TOKEN_PATTERNS = {"words": DEFAULT_TOKEN_PATTERN, "whitespace": r"\S+"}


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


class Vocabulary:
    """Token <-> index mapping with ``<pad>`` at 0 and ``<unk>`` at 1.

    A plain, JSON-serialisable list of tokens (a bundle stores it as ``vocab.json``; loading it
    runs no pickle). gluonnlp's ``Vocab`` orders tokens by frequency on construction, which
    cannot express "the source's tokens in their order, then the target's new ones", so the
    vocabulary transfer needs this small class.
    """

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tokens[:2] != [PAD, UNK]:
            tokens = [PAD, UNK] + [t for t in tokens if t not in (PAD, UNK)]
        self.idx_to_token = tokens
        self.token_to_idx = {tok: i for i, tok in enumerate(tokens)}
        if len(self.token_to_idx) != len(tokens):
            raise ValueError("vocabulary tokens must be unique")

    pad_index = 0
    unk_index = 1

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_idx

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.idx_to_token == other.idx_to_token

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)})"

    def lookup(self, tokens: Iterable[str]) -> list[int]:
        get = self.token_to_idx.get
        return [get(tok, 1) for tok in tokens]

    @classmethod
    def from_counts(
        cls,
        counts: Counter,
        min_freq: int = 1,
        max_size: int | None = None,
        base: Vocabulary | None = None,
    ) -> Vocabulary:
        """Build from token counts; with `base`, keep its tokens first and add only new ones.

        New tokens are ordered by decreasing count, then alphabetically, so the result does not
        depend on the order of the corpus. `max_size` caps the total size (specials included).
        """
        tokens = list(base.idx_to_token) if base is not None else [PAD, UNK]
        known = set(tokens)
        fresh = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in known),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            fresh = fresh[: max(0, max_size - len(tokens))]
        return cls(tokens + fresh)


class _TextStep:
    """Declares to sklearn what the text steps take: one text (or token list) per row, not a
    numeric 2-D array; sklearn's shared checks then test them as such."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        return tags


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
        return [self.fill_value if is_missing(x) else str(x) for x in text_list(X)]


class LowerCaser(_TextStep, TransformerMixin, BaseEstimator):
    """Lower-case every text (Unicode-aware ``str.lower``)."""

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> list[str]:
        check_is_fitted(self, "n_features_in_")
        return [x.lower() for x in text_list(X)]


class Tokenizer(_TextStep, TransformerMixin, BaseEstimator):
    """Split texts into tokens with a regular expression.

    `pattern` matches the tokens (by default words and single punctuation marks; a name from
    :data:`TOKEN_PATTERNS` or a regex). With `split_pattern`, the texts are split where it
    matches instead (``re.split``, empty pieces dropped), as the blog's ``Tokenize(pattern)``
    does. ``<br />`` tags (IMDB) are removed first when `strip_html` is true.
    """

    def __init__(self, pattern: str = DEFAULT_TOKEN_PATTERN, strip_html: bool = True,
                 split_pattern: str | None = None):
        self.pattern = pattern
        self.strip_html = strip_html
        self.split_pattern = split_pattern

    def fit(self, X, y=None):
        if self.split_pattern is not None:
            self.regex_ = re.compile(self.split_pattern)
        else:
            self.regex_ = re.compile(TOKEN_PATTERNS.get(self.pattern, self.pattern))
        return self

    def transform(self, X) -> list[list[str]]:
        check_is_fitted(self, "regex_")
        html = re.compile(r"<[^>]{0,40}>")
        texts = text_list(X)
        if self.strip_html:
            texts = [html.sub(" ", t) for t in texts]
        if self.split_pattern is not None:
            return [[t for t in self.regex_.split(text) if t] for text in texts]
        return [self.regex_.findall(t) for t in texts]


class Tokenize(Tokenizer):
    """The blog's tokenizer: ``Tokenize(split_pattern)`` splits where the pattern matches."""

    def __init__(self, split_pattern: str = r"\s+", strip_html: bool = True):
        super().__init__(strip_html=strip_html, split_pattern=split_pattern)


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

    def __init__(self, min_freq: int = 1, max_size: int | None = None, base_vocabulary=None):
        self.min_freq = min_freq
        self.max_size = max_size
        self.base_vocabulary = base_vocabulary

    def fit(self, X, y=None):
        counts = Counter(tok for tokens in X for tok in tokens)
        self.vocab_ = Vocabulary.from_counts(
            counts, self.min_freq, self.max_size, base=self.base_vocabulary
        )
        return self

    def transform(self, X) -> list[list[int]]:
        check_is_fitted(self, "vocab_")
        return [self.vocab_.lookup(tokens) for tokens in X]


class Tok2Idx(TokenIndexer):
    """The blog's name for :class:`TokenIndexer`."""


class Padder(_TextStep, TransformerMixin, BaseEstimator):
    """Cut or pad id lists to `max_len` columns of ``int32``.

    Parameters
    ----------
    max_len : int
        Number of columns of the output.
    truncation : {"post", "pre"}
        Which end of a long text is cut: ``"post"`` keeps the beginning.
    pad_value : int
        Id written into empty positions (the vocabulary's ``<pad>``, 0).

    Padding always goes at the end, so position 0 holds the first kept token.
    """

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

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self, "n_features_in_")
        rows = list(X)
        out = np.full((len(rows), self.max_len), self.pad_value, dtype=np.int32)
        for i, ids in enumerate(rows):
            ids = ids[: self.max_len] if self.truncation == "post" else ids[-self.max_len :]
            out[i, : len(ids)] = ids
        return out


def make_pipeline(
    max_len: int = 64,
    min_freq: int = 1,
    max_size: int | None = None,
    lowercase: bool = True,
    pattern: str = DEFAULT_TOKEN_PATTERN,
    truncation: str = "post",
    base_vocabulary: Vocabulary | None = None,
    split_pattern: str | None = None,
) -> Pipeline:
    """The standard text pipeline: impute, lower-case, tokenize, index, pad (`split_pattern`:
    split the texts where it matches instead of matching tokens with `pattern`)."""
    steps = [("impute", NullImputer())]
    if lowercase:
        steps.append(("lower", LowerCaser()))
    steps += [
        ("tokenize", Tokenizer(pattern=pattern, split_pattern=split_pattern)),
        ("index", TokenIndexer(min_freq, max_size, base_vocabulary)),
        ("pad", Padder(max_len=max_len, truncation=truncation)),
    ]
    return Pipeline(steps)


def pipeline_config(pipe: Pipeline) -> dict:
    """The JSON-able settings of a pipeline made by :func:`make_pipeline` (no vocabulary)."""
    steps = dict(pipe.steps)
    return {
        "lowercase": "lower" in steps,
        "pattern": steps["tokenize"].pattern,
        "max_len": int(steps["pad"].max_len),
        "truncation": steps["pad"].truncation,
        "min_freq": int(steps["index"].min_freq),
        "max_size": steps["index"].max_size,
        **({"split_pattern": steps["tokenize"].split_pattern}
           if getattr(steps["tokenize"], "split_pattern", None) is not None else {}),
    }


def fitted_pipeline(config: dict, vocab: Vocabulary) -> Pipeline:
    """Rebuild a fitted pipeline from :func:`pipeline_config` output and a vocabulary."""
    pipe = make_pipeline(
        max_len=config["max_len"],
        min_freq=config.get("min_freq", 1),
        max_size=config.get("max_size"),
        lowercase=config.get("lowercase", True),
        pattern=config.get("pattern", DEFAULT_TOKEN_PATTERN),
        truncation=config.get("truncation", "post"),
        split_pattern=config.get("split_pattern"),
    )
    for name, step in pipe.steps:
        if name == "index":
            step.vocab_ = vocab
        else:
            step.fit([])
    return pipe


def vocabulary_of(pipe: Pipeline) -> Vocabulary:
    """The fitted vocabulary of a text pipeline."""
    indexer = pipe.named_steps["index"]
    check_is_fitted(indexer, "vocab_")
    return indexer.vocab_
