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

import mxnet as mx

from ..data.text import Vocabulary
from ..model.network import TextClassifier, build_model, named_parameters
from .vocabulary import map_embeddings


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
    for name in ("embedding.weight", "embedding.scale"):  # rows by token (n-grams included)
        if name in dst and name in src:
            rows, _ = map_embeddings(src[name].data().asnumpy(), source_vocab, target_vocab,
                                     aliases)
            dst[name].set_data(mx.nd.array(rows))
            report[name] = "mapped"
    order = label_order(source_labels, target_labels)
    for name, param in dst.items():
        if name in report:
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
