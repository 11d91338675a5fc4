"""``TextPipeline``: the text pipeline run on chunks, its last steps on integer arrays.

:func:`~.text.make_pipeline`'s steps one after another hold every text's token list, and
with bigrams every bigram as a string, at once: IMDB's 50,000 reviews cut to 1,024 tokens
made 27M Python strings, a 3 GB peak, and 13 s before the first batch (2 cores).
``TextPipeline`` gives the same ids (tested against the steps one by one) another way:

- the texts go through impute, lower-case and tokenize in chunks of :data:`CHUNK`, and each
  chunk's tokens become integers at once, so only one chunk's strings live at a time;
- n-grams are pairs of word ids, counted with ``np.unique`` and looked up with
  ``np.searchsorted``: a bigram becomes a string only when it enters the vocabulary;
- padding is one scatter into the id matrix.

The vocabulary is :meth:`Vocabulary.from_counts` of the same counts, so it is the one the
steps build. Layouts it does not cover (trigrams and up, tokens with spaces, a step
replaced by hand, ``set_output(transform="pandas")``) run the steps one by one.
"""
from __future__ import annotations

import numpy as np
from sklearn.pipeline import Pipeline

from .text import LowerCaser, Ngrams, NullImputer, Padder, TokenIndexer, Tokenizer, text_list
from .vocab import Vocabulary

CHUNK = 2_000  # texts per chunk: IMDB's reviews, about 10 MB of token strings at a time


class TextPipeline(Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` of :func:`~.text.make_pipeline`'s steps whose
    ``fit``, ``fit_transform`` and ``transform`` run in chunks on integer arrays (see the
    module docstring); the result equals the steps run one by one."""

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
        words: dict[str, int] = {}  # token -> provisional id, in order of first sight
        ids, lengths = _provisional_ids(front, texts, words, _keep(grams))
        if any(" " in w for w in words) and grams is not None:
            # a token with a space could equal an n-gram's string: the steps decide
            return super().fit_transform(texts, y)
        index.vocab_ = _vocabulary(index, words, ids, lengths, grams)
        if grams is not None:
            grams.n_features_in_ = 1
        table = _Table.of(index.vocab_)
        tokens = list(words)
        ident = np.array([table.ident.get(t, -1) for t in tokens] or [0], dtype=np.int64)
        return _pad(table, ident[ids] if len(ids) else ids, lengths, grams, pad)

    def transform(self, X, **params):
        layout = self._layout()
        if layout is None or params:
            return super().transform(X, **params)
        front, grams, index, pad = layout
        texts = text_list(X)
        table = _Table.of(index.vocab_)
        if table.spaces and grams is not None:
            return super().transform(texts)
        ids, lengths = _identities(front, texts, table, _keep(grams))
        return _pad(table, ids, lengths, grams, pad)


def _keep(grams) -> tuple | None:
    """(tokens kept, truncation) of the n-gram step, or None (the indexer sees every token)."""
    return None if grams is None else (int(grams.max_tokens), grams.truncation)


def _chunks(front, texts: list):
    """Each chunk's token lists (impute, lower-case, tokenize)."""
    for start in range(0, len(texts), CHUNK):
        rows = texts[start:start + CHUNK]
        for step in front:
            rows = step.transform(rows)
        yield rows


def _cut(tokens: list, keep: tuple | None) -> list:
    if keep is None:
        return tokens
    n, truncation = keep
    return tokens[:n] if truncation == "post" else tokens[-n:]


def _provisional_ids(front, texts: list, words: dict, keep) -> tuple:
    """Flat provisional ids of every token (the n-gram step's cut applied) and row lengths;
    `words` is filled with every token seen."""
    parts, lengths = [], []
    put = words.setdefault
    for rows in _chunks(front, texts):
        for tokens in rows:
            tokens = _cut(tokens, keep)
            lengths.append(len(tokens))
            parts.append(np.fromiter((put(t, len(words)) for t in tokens), dtype=np.int64,
                                     count=len(tokens)))
    return _flat(parts), np.asarray(lengths, dtype=np.int64)


def _identities(front, texts: list, table: _Table, keep) -> tuple:
    """Flat word identities (:class:`_Table`; -1: a word no vocabulary token holds) and row
    lengths."""
    parts, lengths = [], []
    get = table.ident.get
    for rows in _chunks(front, texts):
        for tokens in rows:
            tokens = _cut(tokens, keep)
            lengths.append(len(tokens))
            parts.append(np.fromiter((get(t, -1) for t in tokens), dtype=np.int64,
                                     count=len(tokens)))
    return _flat(parts), np.asarray(lengths, dtype=np.int64)


def _flat(parts: list) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _pair_ends(lengths: np.ndarray) -> np.ndarray:
    """Flat positions that end a bigram: every token but the first of its row."""
    total = int(lengths.sum())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ends = np.ones(total, dtype=bool)
    ends[starts[lengths > 0]] = False
    return ends


def _vocabulary(index: TokenIndexer, words: dict, ids: np.ndarray, lengths: np.ndarray,
                grams) -> Vocabulary:
    """The indexer's vocabulary from integer counts: what counting the token strings gives."""
    tokens = list(words)
    min_freq = index.min_freq
    counts = np.bincount(ids, minlength=len(tokens)) if len(ids) else np.zeros(len(tokens))
    table = {t: int(c) for t, c in zip(tokens, counts, strict=True) if c >= min_freq}
    if grams is not None and int(grams.n) == 2 and len(ids):
        ends = np.nonzero(_pair_ends(lengths))[0]
        keys = ids[ends - 1] * len(tokens) + ids[ends]
        unique, freq = np.unique(keys, return_counts=True)
        kept = freq >= min_freq
        for key, c in zip(unique[kept].tolist(), freq[kept].tolist(), strict=True):
            table[f"{tokens[key // len(tokens)]} {tokens[key % len(tokens)]}"] = c
    return Vocabulary.from_counts(table, min_freq, index.max_size, base=index.base_vocabulary)


class _Table:
    """A vocabulary as integers: each word's identity (its id; words found only inside
    n-gram tokens get ids past the end) and the bigram tokens as sorted pair keys."""

    def __init__(self, vocab: Vocabulary):
        self.size = len(vocab)
        self.ident = dict(vocab.token_to_idx)
        self.spaces = False
        pairs = []
        for i, token in enumerate(vocab.idx_to_token):
            if " " in token:
                parts = token.split(" ")
                if len(parts) != 2 or not all(parts):
                    self.spaces = True  # not a bigram of two words: the steps decide
                    continue
                a, b = (self.ident.setdefault(p, len(self.ident)) for p in parts)
                pairs.append((a, b, i))
        self.width = max(len(self.ident), 1)
        arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 3)
        keys = arr[:, 0] * self.width + arr[:, 1]
        order = np.argsort(keys)
        self.keys, self.values = keys[order], arr[order, 2]

    @classmethod
    def of(cls, vocab: Vocabulary) -> _Table:
        """The vocabulary's table, built once and kept on it."""
        table = vocab.__dict__.get("_table")
        if table is None or table.size != len(vocab):
            table = vocab.__dict__["_table"] = cls(vocab)
        return table

    def bigrams(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Vocabulary ids of the bigrams (first, second) of word identities; 1 (``<unk>``)
        where it has none."""
        out = np.ones(len(first), dtype=np.int64)
        if not len(self.keys) or not len(first):
            return out
        known = (first >= 0) & (second >= 0)
        keys = first[known] * self.width + second[known]
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        out[known] = np.where(self.keys[at] == keys, self.values[at], 1)
        return out


def _pad(table: _Table, ident: np.ndarray, lengths: np.ndarray, grams, pad: Padder):
    """The padded id matrix of flat word identities: each token (``<unk>`` for words outside
    the vocabulary), each bigram right after the token that ends it, then ``pad_value``.
    Filled :data:`CHUNK` rows at a time, which bounds the index arrays' memory."""
    out = np.full((len(lengths), int(pad.max_len)), pad.pad_value, dtype=np.int32)
    ends = np.cumsum(lengths)
    for start in range(0, len(lengths), CHUNK):
        stop = min(start + CHUNK, len(lengths))
        first = int(ends[start - 1]) if start else 0
        _fill(out[start:stop], table, ident[first:int(ends[stop - 1])], lengths[start:stop],
              grams, pad.truncation)
    return out


def _fill(out: np.ndarray, table: _Table, ident: np.ndarray, lengths: np.ndarray, grams,
          truncation: str) -> None:
    """:func:`_pad` for one block of rows, into `out`."""
    n, width = out.shape
    if not len(ident):
        return
    words = np.where((ident >= 0) & (ident < table.size), ident, 1)
    rows = np.repeat(np.arange(n), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    j = np.arange(len(ident)) - starts[rows]  # position of each token in its row
    if grams is not None and int(grams.n) == 2:
        pairs = np.nonzero(_pair_ends(lengths))[0]
        values = np.concatenate([words, table.bigrams(ident[pairs - 1], ident[pairs])])
        pos = np.concatenate([np.maximum(2 * j - 1, 0), 2 * j[pairs]])
        rows = np.concatenate([rows, rows[pairs]])
        size = np.maximum(2 * lengths - 1, 0)
    else:
        values, pos, size = words, j, lengths
    if truncation == "pre":
        pos = pos - np.maximum(size - width, 0)[rows]  # keep each row's last `width`
    keep = (pos >= 0) & (pos < width)
    out[rows[keep], pos[keep]] = values[keep]


__all__ = ["CHUNK", "TextPipeline"]
