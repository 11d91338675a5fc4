"""Vocabulary transfer: shared tokens keep their vectors, new ones start at the mean."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from ..data.text import PAD, UNK, Vocabulary, category_token


@dataclass
class VocabularyReport:
    """How a target vocabulary relates to the source's."""

    mode: str
    source_size: int
    target_size: int
    copied: int  # target tokens whose vector came from the source
    new: int  # target tokens initialised to the mean source vector
    token_coverage: float  # share of target token occurrences the source vocabulary knows
    type_coverage: float  # share of distinct target tokens the source vocabulary knows

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"vocabulary ({self.mode}): {self.target_size:,} tokens, {self.copied:,} "
                f"copied from the source's {self.source_size:,}, {self.new:,} new (mean init); "
                f"the source knows {self.token_coverage:.1%} of target token occurrences "
                f"({self.type_coverage:.1%} of distinct tokens)")


def target_vocabulary(source_vocab: Vocabulary, tokenized, mode: str = "extend",
                      min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
    """The vocabulary for the target data.

    ``mode="extend"`` keeps every source token (in order) and appends new target tokens;
    ``mode="target"`` uses the target's own tokens only (shared ones still get source vectors).
    """
    counts = Counter(tok for tokens in tokenized for tok in tokens)
    if mode == "extend":
        return Vocabulary.from_counts(counts, min_freq, max_size, base=source_vocab)
    if mode == "target":
        return Vocabulary.from_counts(counts, min_freq, max_size)
    raise ValueError(f"vocabulary mode must be 'extend' or 'target', got {mode!r}")


def coverage(source_vocab: Vocabulary, tokenized) -> tuple[float, float]:
    """(token coverage, type coverage) of the tokenized target texts by `source_vocab`."""
    counts = Counter(tok for tokens in tokenized for tok in tokens)
    total = sum(counts.values())
    if total == 0:
        return 0.0, 0.0
    known = sum(c for t, c in counts.items() if t in source_vocab)
    known_types = sum(1 for t in counts if t in source_vocab)
    return known / total, known_types / len(counts)


def map_embeddings(source_weight: np.ndarray, source_vocab: Vocabulary,
                   target_vocab: Vocabulary, aliases: dict | None = None
                   ) -> tuple[np.ndarray, int]:
    """Target embedding matrix: shared tokens copied, new tokens at the mean source vector.

    The mean is taken over real tokens (not ``<pad>``/``<unk>``). A new token listed in
    `aliases` (``{new token: source token}``) starts at that source token's vector instead.
    Returns the matrix and the number of copied rows.
    """
    real = source_weight[2:] if len(source_weight) > 2 else source_weight
    mean = real.mean(axis=0)
    weight = np.tile(mean, (len(target_vocab), 1)).astype(source_weight.dtype)
    copied = 0
    for i, token in enumerate(target_vocab.idx_to_token):
        j = source_vocab.token_to_idx.get(token)
        if j is None and aliases:
            j = source_vocab.token_to_idx.get(aliases.get(token, ""))
        if j is not None:
            weight[i] = source_weight[j]
            copied += token not in (PAD, UNK)
    return weight, copied


def category_report(categories: dict, source_vocab: Vocabulary, target_vocab: Vocabulary,
                    category_map: dict | None = None) -> dict:
    """What each target category's embedding starts from: ``{column: {value: how}}`` with
    ``copied`` (the source knew it), ``from <value>`` (`category_map`), ``new (mean)`` or
    ``dropped (rare)`` (below the vocabulary's minimum count)."""
    report = {}
    for column, values in categories.items():
        mapping = (category_map or {}).get(column, {})
        rows = {}
        for value in values:
            token = category_token(column, value)
            if token not in target_vocab:
                rows[value] = "dropped (rare)"
            elif token in source_vocab:
                rows[value] = "copied"
            elif value in mapping and category_token(column, mapping[value]) in source_vocab:
                rows[value] = f"from {mapping[value]}"
            else:
                rows[value] = "new (mean)"
        report[column] = rows
    return report


def category_aliases(category_map: dict | None) -> dict:
    """``{column: {new value: source value}}`` -> ``{new token: source token}``."""
    return {category_token(col, new): category_token(col, old)
            for col, pairs in (category_map or {}).items() for new, old in pairs.items()}
