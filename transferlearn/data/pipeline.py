"""The text pipeline: :func:`make_pipeline` and a fitted pipeline's settings and vocabulary.

``make_pipeline`` chains the steps of :mod:`.text` (impute, lower-case, tokenize, n-grams,
index, pad) as a :class:`TextPipeline`: a :class:`sklearn.pipeline.Pipeline` whose ``fit``,
``fit_transform`` and ``transform`` give what the steps give one by one, computed in chunks
on integer arrays (:mod:`.indexing`): with bigrams, the steps one by one held every text's
token lists and every bigram as a string at once (IMDB's 50,000 reviews at 1,024 tokens: 27M
Python strings, a 3 GB peak and 13 s; in chunks on integers, 1.1 GB and 8 s, 2 cores).
Layouts it does not cover (trigrams and up, tokens with spaces, a step replaced by hand,
``set_output(transform="pandas")``) run the steps one by one.
"""
from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .indexing import (
    Numbering,
    Table,
    identities,
    pad_ids,
    provisional_ids,
    vocabulary_from_ids,
)
from .patterns import DEFAULT_TOKEN_PATTERN
from .text import (
    LowerCaser,
    Ngrams,
    NullImputer,
    Padder,
    TokenIndexer,
    Tokenizer,
    ngram_positions,
    text_list,
)
from .vocab import Vocabulary


class TextPipeline(Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` of :func:`make_pipeline`'s steps whose ``fit``,
    ``fit_transform`` and ``transform`` run in chunks on integer arrays (see the module
    docstring); the result equals the steps run one by one."""

    def _layout(self):
        """(front steps, ngrams step or None, indexer, padder) when the fast path applies."""
        steps = dict(self.steps)
        names = [name for name, _ in self.steps]
        front = [step for name, step in self.steps if name in ("impute", "lower", "tokenize")]
        expected = [n for n in ("impute", "lower", "tokenize", "ngrams", "index", "pad")
                    if n in steps]
        grams = steps.get("ngrams")
        plain = (names == expected and "tokenize" in steps and "index" in steps
                 and "pad" in steps
                 and all(type(s) in (NullImputer, LowerCaser) or isinstance(s, Tokenizer)
                         for s in front)
                 and type(steps["index"]) is TokenIndexer and type(steps["pad"]) is Padder
                 and (grams is None or (type(grams) is Ngrams and int(grams.n) <= 2))
                 and not any(getattr(s, "_sklearn_output_config", {}).get("transform")
                             for _, s in self.steps))
        return (front, grams, steps["index"], steps["pad"]) if plain else None

    def fit(self, X, y=None, **params):
        if self._layout() is None:
            return super().fit(X, y, **params)
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None, **params):
        layout = self._layout()
        if layout is None or params:
            return super().fit_transform(X, y, **params)
        front, grams, index, pad = layout
        texts = text_list(X)
        for step in front + ([grams] if grams is not None else []) + [pad]:
            step.fit(texts[:1])  # stateless steps: checks their settings, compiles the regex
        words = Numbering()  # token -> provisional id, in order of first sight
        ids, lengths = provisional_ids(front, texts, words, grams)
        if any(" " in w for w in words) and grams is not None:
            # a token with a space could equal an n-gram's string: the steps decide
            return super().fit_transform(texts, y)
        index.vocab_ = vocabulary_from_ids(index, words, ids, lengths, grams)
        if grams is not None:
            grams.n_features_in_ = 1
        table = Table.of(index.vocab_)
        ident = np.fromiter(map(table.ident.__getitem__, words), dtype=np.int64,
                            count=len(words))  # provisional id -> identity
        return pad_ids(table, ident[ids], lengths, grams, pad)

    def transform(self, X, **params):
        layout = self._layout()
        if layout is None or params:
            return super().transform(X, **params)
        front, grams, index, pad = layout
        texts = text_list(X)
        table = Table.of(index.vocab_)
        if table.spaces and grams is not None:
            return super().transform(texts)
        ids, lengths = identities(front, texts, table, grams)
        return pad_ids(table, ids, lengths, grams, pad)



def make_pipeline(  # noqa: PLR0913 (the pipeline's settings, one keyword each)
    max_len: int = 64,
    min_freq: int = 1,
    max_size: int | None = None,
    lowercase: bool = True,
    pattern: str = DEFAULT_TOKEN_PATTERN,
    truncation: str = "post",
    base_vocabulary: Vocabulary | None = None,
    split_pattern: str | None = None,
    ngrams: int = 1,
    spaced_pattern: str | None = None,
) -> Pipeline:
    """The standard text pipeline: impute, lower-case, tokenize, index, pad (`split_pattern`:
    split the texts where it matches instead of matching tokens with `pattern`). With
    ``ngrams > 1``, an :class:`Ngrams` step keeps `max_len` tokens and adds their n-grams.
    A :class:`TextPipeline`: the same output, computed in chunks on integers."""
    steps = [("impute", NullImputer())]
    if lowercase:
        steps.append(("lower", LowerCaser()))
    steps.append(("tokenize", Tokenizer(pattern=pattern, split_pattern=split_pattern,
                                        spaced_pattern=spaced_pattern)))
    width = max_len
    if ngrams > 1:
        steps.append(("ngrams", Ngrams(ngrams, max_len, truncation)))
        width = ngram_positions(max_len, ngrams)
    steps += [
        ("index", TokenIndexer(min_freq, max_size, base_vocabulary)),
        ("pad", Padder(max_len=width, truncation=truncation)),
    ]
    return TextPipeline(steps)


def pipeline_config(pipe: Pipeline) -> dict:
    """The JSON-able settings of a pipeline made by :func:`make_pipeline` (no vocabulary)."""
    steps = dict(pipe.steps)
    grams = steps.get("ngrams")
    kind, regex = steps["tokenize"].rule()
    return {
        "lowercase": "lower" in steps,
        "pattern": getattr(steps["tokenize"], "pattern", DEFAULT_TOKEN_PATTERN),
        "max_len": int(grams.max_tokens if grams else steps["pad"].max_len),
        **({"ngrams": int(grams.n)} if grams else {}),
        "truncation": steps["pad"].truncation,
        "min_freq": int(steps["index"].min_freq),
        "max_size": steps["index"].max_size,
        **({kind: regex} if kind != "pattern" else {}),
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
        ngrams=config.get("ngrams", 1),
        spaced_pattern=config.get("spaced_pattern"),
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


def sample_lengths(texts, size: int = 2_000, seed: int = 0) -> np.ndarray:
    """Token counts of up to `size` of `texts` drawn at random (`seed`), as the standard
    pipeline tokenizes them: enough for a percentile, a fraction of a pass over IMDB."""
    texts = text_list(texts)
    pick = np.random.RandomState(seed).permutation(len(texts))[:size]
    tokenize = make_pipeline()[:-2]  # impute, lower-case, tokenize
    return np.asarray([len(t) for t in tokenize.fit_transform([texts[i] for i in pick])])


__all__ = ["TextPipeline", "fitted_pipeline", "make_pipeline", "pipeline_config",
           "sample_lengths", "vocabulary_of"]
