"""Transfer a trained network to a new data set.

Freezing works on parameter names (structural names such as ``encoder.convs.0.weight``), with
the slot names (``embedding``, ``encoder``, ``output``) and ``body`` (embedding + encoder) as
short-hands. A frozen parameter gets ``grad_req='null'``; :func:`transferlearn.train.fit`
builds its Trainer over the parameters still trainable, so every (un)freeze is followed by a
fresh Trainer.

Vocabulary transfer: the target vocabulary keeps the source's tokens and appends the target's
new ones; tokens shared with the source keep their learned vectors, new tokens start at the
mean source vector, and :class:`VocabularyReport` says how much was shared.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass

import mxnet as mx
import numpy as np

from .model import SLOTS, TextClassifier, build_model, named_parameters
from .text import PAD, UNK, Vocabulary, category_token

# layer groups from the top, as ULMFiT unfreezes them (pooling has no parameters)
GROUPS = ("output", "encoder", "embedding")
ALIASES = {"body": r"^(embedding|encoder)\."}


def _regex(pattern: str) -> re.Pattern:
    if pattern in SLOTS:
        return re.compile(rf"^{pattern}\.")
    return re.compile(ALIASES.get(pattern, pattern))


def select(net, pattern: str) -> dict:
    """Parameters whose structural name matches `pattern` (a slot name, ``body`` or a regex).

    Raises
    ------
    ValueError
        If nothing matches (a typo should not silently freeze nothing).
    """
    regex = _regex(pattern)
    chosen = {n: p for n, p in named_parameters(net).items() if regex.search(n)}
    if not chosen:
        names = ", ".join(named_parameters(net))
        raise ValueError(f"no parameter matches {pattern!r}; parameters: {names}")
    return chosen


def _set_grad_req(net, pattern: str, grad_req: str) -> list[str]:
    chosen = select(net, pattern)
    for param in chosen.values():
        param.grad_req = grad_req
    net._clear_cached_op()  # cached graphs were built with the old gradient requests
    return list(chosen)


def freeze(net, pattern: str) -> list[str]:
    """Stop training the matching parameters; returns their names.

    Examples
    --------
    >>> freeze(net, "embedding")  # doctest: +SKIP
    ['embedding.weight']
    """
    return _set_grad_req(net, pattern, "null")


def unfreeze(net, pattern: str) -> list[str]:
    """Train the matching parameters again; returns their names."""
    return _set_grad_req(net, pattern, "write")


def set_lr_mult(net, pattern: str, lr_mult: float) -> list[str]:
    """Scale the learning rate of the matching parameters (discriminative learning rates)."""
    chosen = select(net, pattern)
    for param in chosen.values():
        param.lr_mult = lr_mult
    return list(chosen)


def trainable(net) -> list[str]:
    """Names of the parameters that training will update."""
    return [n for n, p in named_parameters(net).items() if p.grad_req != "null"]


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


def label_order(source_labels, target_labels) -> list[int] | None:
    """For each target label, the index of the same label in the source's outputs.

    None when the two label sets differ (the source head cannot be reused as is).
    """
    source = list(map(str, source_labels))
    if sorted(source) != sorted(map(str, target_labels)):
        return None
    return [source.index(str(lab)) for lab in target_labels]


def transfer_weights(source: TextClassifier, target: TextClassifier, source_vocab: Vocabulary,
                     target_vocab: Vocabulary, source_labels, target_labels,
                     keep_head: bool = True, aliases: dict | None = None) -> dict:
    """Copy the source's weights into `target` (already initialised).

    The embedding is mapped token by token (:func:`map_embeddings`); every other parameter
    with the same name and shape is copied. The output layer is copied only when the label
    sets are equal (rows reordered to the target's label order) and `keep_head` is true;
    otherwise it stays freshly initialised. Returns ``{name: "copied"|"mapped"|"new"}``.
    """
    src, dst = named_parameters(source), named_parameters(target)
    report = {}
    weight, _ = map_embeddings(src["embedding.weight"].data().asnumpy(), source_vocab,
                               target_vocab, aliases)
    dst["embedding.weight"].set_data(mx.nd.array(weight))
    report["embedding.weight"] = "mapped"
    order = label_order(source_labels, target_labels)
    for name, param in dst.items():
        if name == "embedding.weight":
            continue
        if name.startswith("output."):
            if not (keep_head and order is not None):
                report[name] = "new"
                continue
            param.set_data(mx.nd.array(src[name].data().asnumpy()[order]))
            report[name] = "copied"
        elif name in src and src[name].shape == param.shape:
            param.set_data(src[name].data())
            report[name] = "copied"
        else:
            report[name] = "new"
    return report


def new_target_model(source: TextClassifier, vocab_size: int, num_classes: int,
                     ctx=None, **sizes) -> TextClassifier:
    """A freshly initialised network with the source's architecture, resized (and with
    `sizes`, e.g. ``embed_dim=64``, overriding the source's, for cross-architecture
    transfer)."""
    unknown = set(sizes) - set(source.config) - {"kernel_sizes"}
    if unknown or {"vocab_size", "num_classes"} & set(sizes):
        raise ValueError(f"cannot set {sorted(unknown or sizes)} of the target network")
    config = dict(source.config, **sizes, vocab_size=vocab_size, num_classes=num_classes)
    net = build_model(config)
    net.initialize(mx.init.Xavier(), ctx=ctx or mx.cpu())
    return net


def gradual_unfreezing(net: TextClassifier, factor: float = 2.6) -> dict[int, str]:
    """Prepare ULMFiT-style gradual unfreezing with discriminative learning rates.

    Freezes everything but the output layer and gives each lower group a learning rate
    `factor` times smaller than the group above (output 1, encoder 1/2.6, embedding 1/2.6²).
    Returns ``{epoch: group}``: the group to unfreeze at the start of that epoch (encoder at
    epoch 2, embedding at epoch 3), for :func:`unfreeze_schedule`.
    """
    if factor <= 0:
        raise ValueError(f"the discriminative factor must be positive, got {factor}")
    unfreeze(net, ".")
    for depth, group in enumerate(GROUPS):
        set_lr_mult(net, group, factor ** -depth)
    freeze(net, "body")
    return {epoch: group for epoch, group in enumerate(GROUPS[1:], start=2)}


def unfreeze_schedule(schedule: dict[int, str]):
    """An ``epoch_start`` callback for :func:`~transferlearn.train.fit` that unfreezes
    ``schedule[epoch]`` when that epoch begins."""
    def epoch_start(net, epoch: int) -> None:
        if epoch in schedule:
            unfreeze(net, schedule[epoch])

    return epoch_start


def estimate_target_priors(proba: np.ndarray, source_priors, max_iter: int = 1000,
                           tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Re-estimate class priors on unlabelled target data by EM (Saerens et al. 2002).

    A classifier trained where the classes had priors ``p_s`` outputs posteriors ``proba`` on
    target rows. Under label shift (p(x|y) unchanged, p(y) changed), alternating
    ``posterior ∝ proba * p_t / p_s`` and ``p_t = mean(posterior)`` converges to the target
    priors. Returns ``(target_priors, adjusted_proba)``.

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    >>> priors, _ = estimate_target_priors(proba, [0.5, 0.5])
    >>> bool(priors[0] > 0.5)
    True
    """
    proba = np.asarray(proba, dtype=np.float64)
    source = np.asarray(source_priors, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(source) or len(proba) == 0:
        raise ValueError(f"proba must be (n > 0, {len(source)}); got {proba.shape}")
    if (source <= 0).any():
        raise ValueError("source priors must be positive")
    source = source / source.sum()
    target = source.copy()
    adjusted = proba
    for _ in range(max_iter):
        adjusted = adjust_priors(proba, source, target)
        new = adjusted.mean(axis=0)
        done = np.abs(new - target).max() < tol
        target = new
        if done:
            break
    return target, adjusted


def adjust_priors(proba: np.ndarray, source_priors, target_priors) -> np.ndarray:
    """Posteriors re-weighted from the source's class priors to the target's (Bayes' rule)."""
    weights = np.asarray(target_priors, np.float64) / np.asarray(source_priors, np.float64)
    adjusted = np.asarray(proba, np.float64) * weights
    return adjusted / np.clip(adjusted.sum(axis=1, keepdims=True), 1e-12, None)
