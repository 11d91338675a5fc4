"""Inference in batches: logits, probabilities and the output of any named layer."""
from __future__ import annotations

import mxnet as mx
import numpy as np
from mxnet import gluon

from .network import SLOTS


def predict_logits(net: gluon.Block, X: np.ndarray, batch_size: int = 512, ctx=None) -> np.ndarray:
    """Raw outputs for every row of `X`, batched, with one host copy at the end."""
    ctx = ctx or mx.cpu()
    if len(X) == 0:
        return np.zeros((0, net.config["num_classes"]), dtype=np.float32)
    X_nd = mx.nd.array(X, dtype="int32", ctx=ctx)
    outs = [net(X_nd[start:start + batch_size]) for start in range(0, len(X), batch_size)]
    return mx.nd.concat(*outs, dim=0).asnumpy()


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
