"""Inference in batches: logits, probabilities and the output of any named layer."""
from __future__ import annotations

import mxnet as mx
import numpy as np
from mxnet import gluon

from .network import SLOTS, bag_weights, is_bag, named_parameters, sparse_rows


def predict_logits(net: gluon.Block, X: np.ndarray, batch_size: int = 512, ctx=None) -> np.ndarray:
    """Raw outputs for every row of `X`, batched, with one host copy at the end.

    A ``padding_invariant`` network (cnn, mean, ngram) gets its rows sorted by length and
    each batch cut to its longest row, so that no batch computes the padding of longer texts
    than its own; the outputs come back in the rows' order and equal the uncut ones (tested).
    Widths are rounded up to a multiple of 32: each new shape costs a hybridized network its
    own buffers (IMDB test reviews, CNN: rounding to 8 columns scored 778 texts/s and took
    445 MB more memory, to 32 700 texts/s and 172 MB; uncut, 528 texts/s and 83 MB).
    """
    ctx = ctx or mx.cpu()
    if len(X) == 0:
        return np.zeros((0, net.config["num_classes"]), dtype=np.float32)
    X = np.asarray(X)
    if is_bag(net):
        return _bag_logits(net, X, ctx)
    order, widths = batch_widths(X, batch_size, getattr(net, "padding_invariant", False))
    X_nd = mx.nd.array(X if order is None else X[order], dtype="int32", ctx=ctx)
    outs = [net(X_nd[start:start + batch_size, :width])  # (batch, num_classes)
            for start, width in zip(range(0, len(X), batch_size), widths, strict=True)]
    logits = mx.nd.concat(*outs, dim=0).asnumpy()
    if order is None:
        return logits
    unsorted = np.empty_like(logits)
    unsorted[order] = logits
    return unsorted


def _bag_logits(net, X: np.ndarray, ctx, batch_size: int = 4096) -> np.ndarray:
    """A bag network's logits as sparse weights times its embedding table, then its head
    (the same numbers as the network's forward, to float rounding; tested). IMDB's 25,000
    test reviews at 704 tokens with bigrams: 0.45 s instead of 6.05 s through the network's
    forward, 2 cores."""
    table = named_parameters(net)["embedding.weight"].data(ctx)
    outs = [net.output(mx.nd.sparse.dot(sparse_rows(bag_weights(net, X[s:s + batch_size]), ctx),
                                        table))
            for s in range(0, len(X), batch_size)]  # each (batch, num_classes)
    return mx.nd.concat(*outs, dim=0).asnumpy()


def token_lengths(X: np.ndarray) -> np.ndarray:
    """Tokens per row of padded ids `X` ``(n, seq_len)``: padding (id 0) is at the end of a
    row (see data.text.Padder), so the count is where a row's padding starts."""
    return (np.asarray(X) != 0).sum(axis=1)


def batch_widths(X: np.ndarray, batch_size: int, by_length: bool = True,
                 multiple: int = 32) -> tuple:
    """How to score `X` in batches: a row order (None: as they are) and each batch's width
    in that order. `by_length`: rows sorted longest first, each batch as wide as its longest
    row rounded up to `multiple` (at most ``X.shape[1]``); otherwise every batch is whole."""
    if not by_length:
        return None, [X.shape[1]] * -(-len(X) // batch_size)
    lengths = token_lengths(X)
    order = np.argsort(-lengths, kind="stable")
    firsts = lengths[order][::batch_size]  # each batch's longest row
    widths = np.minimum(X.shape[1], np.maximum(1, -(-firsts // multiple) * multiple))
    return order, [int(w) for w in widths]


def predict_proba(net: gluon.Block, X: np.ndarray, batch_size: int = 512, ctx=None) -> np.ndarray:
    """Class probabilities, shape ``(n_rows, num_classes)``."""
    logits = predict_logits(net, X, batch_size, ctx)
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def layer_output(net, X: np.ndarray, layer: str = "pooling", batch_size: int = 512,
                 ctx=None) -> np.ndarray:
    """Output of slot `layer` (``embedding``, ``encoder``, ``pooling`` or ``output``) for ids `X`.

    Shapes: embedding ``(n, seq_len, embed_dim)``, encoder ``(n, seq_len, hidden)``,
    pooling ``(n, hidden)``, output ``(n, num_classes)`` (logits). Runs in inference mode
    (no dropout), batched, with one copy to the host at the end.
    """
    if layer not in SLOTS:
        raise ValueError(f"unknown layer {layer!r}; choose one of {', '.join(SLOTS)}")
    ctx = ctx or mx.cpu()
    X_nd = mx.nd.array(X, dtype="int32", ctx=ctx)
    outs = [net.stages(mx.nd, X_nd[s:s + batch_size])[layer] for s in range(0, len(X), batch_size)]
    if not outs:
        return np.zeros((0,), dtype=np.float32)
    return mx.nd.concat(*outs, dim=0).asnumpy()
