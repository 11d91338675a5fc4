"""The integer work of :class:`~.pipeline.TextPipeline`: tokens to ids in chunks, n-grams as
pairs of word ids, the vocabulary from integer counts, padding as one scatter.

- the texts go through the pipeline's first steps (impute, lower-case, tokenize) in chunks
  of :data:`CHUNK`, and each chunk's tokens become integers at once, so only one chunk's
  strings live at a time;
- n-grams are pairs of word ids, counted with ``np.unique`` and looked up in a hash index
  (``pd.Index``): a bigram becomes a string only when it enters the vocabulary;
- the vocabulary is :meth:`Vocabulary.from_counts` of the same counts the steps count, so
  it is the one they build; padding is one scatter into the id matrix.

The steps come in as objects with their settings (``max_tokens``, ``truncation``,
``min_freq``, ...); this module imports none of them.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .vocab import Vocabulary

CHUNK = 2_000  # texts per chunk: IMDB's reviews, about 10 MB of token strings at a time


def _chunks(front, texts: list):
    """Each chunk's token lists (impute, lower-case, tokenize)."""
    for start in range(0, len(texts), CHUNK):
        rows = texts[start:start + CHUNK]
        for step in front:
            rows = step.transform(rows)
        yield rows


class Numbering(dict):
    """token -> provisional id, a new token getting the next id (``__missing__``, so that
    ``map(numbering.__getitem__, tokens)`` runs in C for every token seen before)."""

    def __missing__(self, token: str) -> int:
        number = self[token] = len(self)
        return number


class _Identity(dict):
    """token -> identity; -1 for a token no vocabulary token holds."""

    def __missing__(self, token: str) -> int:
        return -1


def provisional_ids(front, texts: list, words: Numbering, grams) -> tuple:
    """Flat provisional ids of every token (what the n-gram step `grams` keeps, if any) and
    row lengths; `words` is filled with every token seen."""
    return _numbers(front, texts, words.__getitem__, grams)


def identities(front, texts: list, table: Table, grams) -> tuple:
    """Flat word identities (:class:`Table`; -1: a word no vocabulary token holds) and row
    lengths."""
    return _numbers(front, texts, table.ident.__getitem__, grams)


def _numbers(front, texts: list, number, grams) -> tuple:
    """``number(token)`` for every token of every text, flat, and each text's count; with an
    n-gram step, of the tokens it keeps (without one the indexer sees every token)."""
    parts, lengths = [], []
    for rows in _chunks(front, texts):
        rows = rows if grams is None else [grams.kept(tokens) for tokens in rows]
        sizes = [len(tokens) for tokens in rows]
        lengths += sizes
        parts.append(np.fromiter(map(number, itertools.chain.from_iterable(rows)),
                                 dtype=np.int64, count=sum(sizes)))
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


def vocabulary_from_ids(index, words: dict, ids: np.ndarray, lengths: np.ndarray,
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


class Table:
    """A vocabulary as integers: each word's identity (its id; words found only inside
    n-gram tokens get ids past the end) and the bigram tokens as pair keys in a hash index."""

    def __init__(self, vocab: Vocabulary):
        self.size = len(vocab)
        self.ident = _Identity(vocab.token_to_idx)
        self.spaces = False
        firsts, seconds, where = [], [], []
        for i, token in enumerate(vocab.idx_to_token):
            if " " in token:
                a, _, b = token.partition(" ")
                if not a or not b or " " in b:
                    self.spaces = True  # not a bigram of two words: the steps decide
                    continue
                firsts.append(a)
                seconds.append(b)
                where.append(i)
        for word in itertools.chain(firsts, seconds):  # words found only inside bigrams
            if word not in self.ident:
                self.ident[word] = len(self.ident)
        self.width = max(len(self.ident), 1)
        left = np.fromiter(map(self.ident.__getitem__, firsts), dtype=np.int64,
                           count=len(where))
        right = np.fromiter(map(self.ident.__getitem__, seconds), dtype=np.int64,
                            count=len(where))
        # a hash index: 4x faster than searchsorted on IMDB's 13M bigrams (0.5 against 2 s)
        self.keys = pd.Index(left * self.width + right)
        self.values = np.asarray(where, dtype=np.int64)

    @classmethod
    def of(cls, vocab: Vocabulary) -> Table:
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
        at = self.keys.get_indexer(first[known] * self.width + second[known])  # -1: none
        out[known] = np.where(at >= 0, self.values[at], 1)
        return out


def pad_ids(table: Table, ident: np.ndarray, lengths: np.ndarray, grams, pad):
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


def _fill(out: np.ndarray, table: Table, ident: np.ndarray, lengths: np.ndarray, grams,
          truncation: str) -> None:
    """:func:`pad_ids` for one block of rows, into `out`."""
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


__all__ = ["CHUNK", "Numbering", "Table", "identities", "pad_ids",
           "provisional_ids", "vocabulary_from_ids"]
