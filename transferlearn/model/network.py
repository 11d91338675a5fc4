"""``TextClassifier``: embedding -> encoder -> pooling -> output, as one Gluon HybridBlock.

The four named slots make the transfer operations one line each: ``net.embedding`` is the
token table, ``net.encoder`` the contextual layer (``mean``, ``cnn``, ``bilstm`` or ``ngram``),
``net.pooling`` the masked reduction over time and ``net.output`` the classification head.

Shapes: ``x (batch, seq_len) int32`` -> embedding ``(batch, seq_len, embed_dim)`` -> encoder
``(batch, seq_len, hidden)`` -> pooling ``(batch, hidden)`` -> output ``(batch, num_classes)``.
Padding (id 0) is masked: its embeddings are zeroed and pooling ignores its positions.

The ``ngram`` encoder is a fastText-style bag: the text pipeline adds the texts' n-grams as
tokens of their own (``make_pipeline(ngrams=2)``), the encoder passes their vectors through
and pooling averages them. With ``nb_scale`` each token's vector is multiplied by a fixed
naive-Bayes log-count ratio (:func:`log_count_ratio`, the NBSVM idea of Wang & Manning 2012),
so tokens that separate the classes weigh more from the first step on.
"""
from __future__ import annotations

import mxnet as mx
import numpy as np
from mxnet import gluon
from mxnet.gluon import nn

from ..config import ENCODER_DEFAULTS, MODEL  # the defaults of the runs and the scripts
from .encoders import BAG_ENCODERS, ENCODER_REGISTRY, make_encoder

SLOTS = ("embedding", "encoder", "pooling", "output")


class MaskedPooling(nn.HybridBlock):
    """Reduce over time, ignoring padded positions: ``mode`` is ``"max"`` or ``"mean"``."""

    def __init__(self, mode: str = "max", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "mean"):
            raise ValueError(f"pooling must be 'max' or 'mean', got {mode!r}")
        self.mode = mode

    def hybrid_forward(self, F, x, mask):  # x (batch, seq_len, hidden), mask (batch, seq_len)
        lengths = F.sum(mask, axis=1)  # (batch,): tokens per row
        n_tokens = F.expand_dims(lengths, axis=1)  # (batch, 1)
        if self.mode == "mean":
            # a batched matrix product, (batch, 1, seq_len) x (batch, seq_len, hidden): 5x
            # faster on CPU than broadcast_mul + sum (measured, 2 cores)
            total = F.batch_dot(F.expand_dims(mask, axis=1), x).reshape((0, -1))
            return F.broadcast_div(total, F.maximum(n_tokens, 1.0))  # (batch, hidden)
        # padding is at the end (see text.Padder): mask by length, faster than a broadcast
        masked = F.SequenceMask(x, lengths, use_sequence_length=True, value=-1e4, axis=1)
        # oneDNN's global max pooling over time, (batch, hidden, seq_len) -> (batch, hidden):
        # with the transpose 2.8x faster forward + backward than F.max(axis=1) (16.8 -> 6.0 ms
        # for a (64, 64, 300) batch, 2 cores)
        pooled = F.Pooling(F.transpose(masked, axes=(0, 2, 1)), kernel=(1,), pool_type="max",
                           global_pool=True).reshape((0, -1))  # (batch, hidden)
        return F.broadcast_mul(pooled, F.minimum(n_tokens, 1.0))  # all-padding rows -> 0


class ScaledEmbedding(nn.Embedding):
    """An embedding whose rows are multiplied by a fixed per-token weight ``scale`` (the
    naive-Bayes log-count ratios; ones until :func:`set_token_scale`). ``scale`` never
    trains: it is data, fitted once (not differentiable, so unfreezing leaves it alone)."""

    def __init__(self, input_dim: int, output_dim: int, **kwargs):
        super().__init__(input_dim, output_dim, **kwargs)
        self.scale = self.params.get("scale", shape=(input_dim, 1), init=mx.init.One(),
                                     grad_req="null", differentiable=False)

    def hybrid_forward(self, F, x, weight, scale):  # x (batch, seq_len)
        vectors = F.Embedding(x, weight, name="fwd", **self._kwargs)  # (batch, seq_len, dim)
        scales = F.Embedding(x, scale, input_dim=self._kwargs["input_dim"], output_dim=1)
        return F.broadcast_mul(vectors, scales)  # (batch, seq_len, dim)


def log_count_ratio(X: np.ndarray, y: np.ndarray, vocab_size: int, num_classes: int,
                    alpha: float = 1.0) -> np.ndarray:
    """Per-token naive-Bayes weights ``|log((p/|p|) / (q/|q|))|`` from binary presence counts
    (Wang & Manning 2012), `alpha` smoothing; with more than two classes, the mean over the
    one-vs-rest ratios. ``<pad>`` and ``<unk>`` get 0 and 1. Shape ``(vocab_size,)``.

    >>> X = np.array([[2, 3], [2, 0], [4, 0]]); y = np.array([1, 1, 0])
    >>> log_count_ratio(X, y, 5, 2).astype(float).round(2).tolist()
    [0.0, 1.0, 0.81, 0.41, 0.98]
    """
    from scipy import sparse

    rows, ids, _ = _positions(X, 0)
    present = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, ids)),
                                shape=(len(X), vocab_size))
    present.data[:] = 1.0  # a token counts once per text
    onehot = sparse.csr_matrix((np.ones(len(y)), (np.arange(len(y)), np.asarray(y))),
                               shape=(len(y), num_classes))
    counts = np.asarray((onehot.T @ present).todense()) + alpha  # (classes, vocab)
    total = counts.sum(axis=0, keepdims=True)
    ratios = [np.log((counts[c] / counts[c].sum()) / ((total - counts[c]) /
                                                        (total - counts[c]).sum()))
              for c in range(num_classes if num_classes > 2 else 1)]
    scale = np.abs(np.asarray(ratios).reshape(len(ratios), -1)).mean(axis=0)
    scale[0], scale[1] = 0.0, 1.0  # padding adds nothing; unknown tokens count plainly
    return scale.astype(np.float32)


def set_token_scale(net, scale: np.ndarray) -> None:
    """Write per-token weights (e.g. :func:`log_count_ratio`) into an ``nb_scale`` network."""
    param = named_parameters(net)["embedding.scale"]
    param.set_data(mx.nd.array(np.asarray(scale, dtype=np.float32).reshape(-1, 1),
                               ctx=param.list_ctx()[0]))


class TextClassifier(nn.HybridBlock):
    """Text classifier with named slots ``embedding``, ``encoder``, ``pooling``, ``output``.

    Parameters
    ----------
    vocab_size, num_classes : int
    embed_dim : int
        Width of the token vectors.
    encoder : {"mean", "cnn", "bilstm", "ngram"}
    hidden_size : int
        Units of the ``mean`` encoder's dense layer, or of each LSTM direction.
    num_filters, kernel_sizes
        ``cnn`` only: filters per window size and the window sizes.
    pooling : {"max", "mean"}, optional
        Defaults to ``mean`` for the ``mean`` encoder and ``max`` otherwise.
    dropout : float
        Dropout before the output layer.
    embed_dropout : float
        Dropout on the token vectors (regularises the largest layer; helps small data).
    pad_index : int
        Token id that marks padding.
    sparse_grad : bool
        Row-sparse embedding gradients: each step computes and updates (lazily, for Adam)
        only the rows of the tokens in the batch instead of the whole table.
    nb_scale : bool
        Multiply each token's vector by a fixed per-token weight (``embedding.scale``, set
        with :func:`set_token_scale`, e.g. to naive-Bayes log-count ratios).

    Examples
    --------
    >>> net = TextClassifier(vocab_size=100, num_classes=2, encoder="mean")
    >>> net.initialize()
    >>> net(mx.nd.array([[5, 6, 0]], dtype="int32")).shape
    (1, 2)
    """

    def __init__(self, vocab_size: int, num_classes: int,  # noqa: PLR0913
                 embed_dim: int = ENCODER_DEFAULTS[""]["embed_dim"], encoder: str = MODEL.encoder,
                 hidden_size: int = MODEL.hidden_size, num_filters: int = MODEL.num_filters,
                 kernel_sizes=(3, 4, 5), pooling: str | None = None,
                 dropout: float = MODEL.dropout, embed_dropout: float = MODEL.embed_dropout,
                 pad_index: int = 0, sparse_grad: bool = False, nb_scale: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        pooling = pooling or ENCODER_REGISTRY.get(encoder, (None, "max"))[1]
        self.config = {
            "vocab_size": int(vocab_size), "num_classes": int(num_classes),
            "embed_dim": int(embed_dim), "encoder": encoder, "hidden_size": int(hidden_size),
            "num_filters": int(num_filters), "kernel_sizes": [int(k) for k in kernel_sizes],
            "pooling": pooling, "dropout": float(dropout),
            "embed_dropout": float(embed_dropout), "pad_index": int(pad_index),
            "sparse_grad": bool(sparse_grad), **({"nb_scale": True} if nb_scale else {}),
        }
        self._pad_index = pad_index
        with self.name_scope():
            self.embedding = (ScaledEmbedding if nb_scale else nn.Embedding)(
                vocab_size, embed_dim, weight_initializer=mx.init.Uniform(0.1),
                sparse_grad=sparse_grad)
            self.encoder = make_encoder(encoder, embed_dim, hidden_size, num_filters,
                                        kernel_sizes)
            self.embed_dropout = nn.Dropout(embed_dropout)
            self.pooling = MaskedPooling(pooling)
            self.dropout = nn.Dropout(dropout)
            self.output = nn.Dense(num_classes, in_units=self.encoder.out_units)

    def stages(self, F, x) -> dict:
        """Every slot's output for a batch of ids, in order (see the module docstring)."""
        mask = F.cast(x != self._pad_index, "float32")  # (batch, seq_len)
        lengths = F.sum(mask, axis=1)  # (batch,): padding is at the end (see text.Padder)
        emb = self.embedding(x)  # (batch, seq_len, embed_dim)
        if self.config["encoder"] not in BAG_ENCODERS:  # per-token: masked pooling suffices
            # zero the padding by length: forward + backward 0.6 ms instead of 3.3 ms for
            # broadcast_mul by the mask (64 x 64 x 128, 2 cores)
            emb = F.SequenceMask(emb, lengths, use_sequence_length=True, value=0.0, axis=1)
        dropped = self.embed_dropout(emb)
        enc = (self.encoder(dropped, lengths) if getattr(self.encoder, "needs_lengths", False)
               else self.encoder(dropped))  # (batch, seq_len, hidden)
        pooled = self.pooling(enc, mask)  # (batch, hidden)
        logits = self.output(self.dropout(pooled))  # (batch, num_classes)
        return {"embedding": emb, "encoder": enc, "pooling": pooled, "output": logits}

    def hybrid_forward(self, F, x):
        return self.stages(F, x)["output"]

    @property
    def padding_invariant(self) -> bool:
        """Whether trailing padding leaves the outputs unchanged (so a batch may be cut to
        its longest row): true for every encoder here (cnn, mean and ngram mask the padding,
        the BiLSTM stops at each row's length)."""
        return getattr(self.encoder, "padding_invariant", True)

    def replace_head(self, num_classes: int, ctx=None) -> None:
        """Swap in a fresh, initialised output layer for `num_classes` classes."""
        ctx = ctx or _context_of(self)
        with self.name_scope():
            self.output = nn.Dense(num_classes, in_units=self.encoder.out_units)
        self.output.initialize(mx.init.Xavier(), ctx=ctx)
        self.config["num_classes"] = int(num_classes)
        self._clear_cached_op()


def is_bag(net) -> bool:
    """Whether `net` is a bag of n-grams (``ngram`` encoder, mean pooling): its pooled output
    is then a sparse ``(rows, vocabulary)`` matrix of weights (:func:`bag_weights`) times the
    embedding table, which trains and scores without the ``(batch, seq_len, embed_dim)``
    array of token vectors (IMDB at 704 tokens: 2 s an epoch; scoring its 25,000 test
    reviews 0.45 s instead of 6.05 s, 2 cores)."""
    config = getattr(net, "config", None) or {}
    return config.get("encoder") == "ngram" and config.get("pooling") == "mean"


def bag_weights(net, X: np.ndarray):
    """The scipy CSR matrix ``(n, vocab_size)`` whose product with the embedding table is a
    bag network's pooled output for ids `X` ``(n, seq_len)``: each position's token weighs
    its ``embedding.scale`` (1 without one) over the row's count of non-padding positions,
    repeats left as they are (see :func:`_positions`); padding is left out, as the masked
    mean pooling leaves it out."""
    from scipy import sparse

    rows, ids, indptr = _positions(X, net.config["pad_index"])
    lengths = np.diff(indptr).astype(np.float32)
    params = named_parameters(net)
    scale = (params["embedding.scale"].data().asnumpy().ravel()[ids]
             if "embedding.scale" in params else np.ones(len(ids), dtype=np.float32))
    return sparse.csr_matrix((scale / lengths[rows], ids, indptr),
                             shape=(len(X), net.config["vocab_size"]))


def _positions(X: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-padding positions of ids `X`, row by row: (row ids as int32, ids as int32,
    CSR row pointers). A repeated id stays repeated: MXNet's sparse products sum repeats in
    their forward and their row-sparse gradient (tested), and leaving them costs nothing
    where scipy's merge sorts every row (IMDB's training ids: 0.04 against 1 s)."""
    X = np.asarray(X)
    keep = X != pad
    counts = keep.sum(axis=1)
    rows = np.repeat(np.arange(len(X), dtype=np.int32), counts)
    indptr = np.zeros(len(X) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return rows, X[keep].astype(np.int32, copy=False), indptr


def sparse_rows(weights, ctx=None) -> mx.nd.NDArray:
    """A scipy CSR matrix as an MXNet one on `ctx`."""
    return mx.nd.sparse.csr_matrix((weights.data, weights.indices, weights.indptr),
                                   shape=weights.shape, ctx=ctx or mx.cpu())


def build_model(config: dict) -> TextClassifier:
    """A TextClassifier from its ``config`` dict (as stored in a bundle's config.json)."""
    return TextClassifier(**config)


def named_parameters(net: gluon.Block) -> dict:
    """Parameters keyed by their structural name, e.g. ``"encoder.convs.0.weight"``.

    These names do not depend on how many blocks were created before (unlike
    ``param.name``), so they are what patterns, bundles and reports use.
    """
    return dict(net._collect_params_with_prefix())


def _context_of(net: gluon.Block):
    for param in named_parameters(net).values():
        try:
            return param.list_ctx()[0]
        except RuntimeError:
            continue
    return mx.cpu()


def summary_line(net: gluon.Block) -> str:
    """One line: parameter counts and the slots that are frozen (:func:`summary` has them
    all)."""
    total = trainable = 0
    frozen: list[str] = []
    for name, param in named_parameters(net).items():
        size = int(np.prod(param.shape))
        total += size
        if param.grad_req != "null":
            trainable += size
        elif name.split(".")[0] not in frozen:
            frozen.append(name.split(".")[0])
    return (f"network: {total:,} parameters, {trainable:,} trainable"
            + (f", {', '.join(frozen)} frozen" if frozen else ""))


def summary(net: gluon.Block) -> str:
    """A table of every parameter: slot, name, shape, count and whether it trains."""
    rows = [("slot", "parameter", "shape", "params", "trainable")]
    total = trainable = 0
    for name, param in named_parameters(net).items():
        size = 1
        for dim in param.shape:
            size *= dim
        total += size
        is_trainable = param.grad_req != "null"
        trainable += size if is_trainable else 0
        rows.append((name.split(".")[0], name, "x".join(map(str, param.shape)), f"{size:,}",
                     "yes" if is_trainable else "frozen"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(f"total {total:,} parameters, {trainable:,} trainable, "
                 f"{total - trainable:,} frozen")
    return "\n".join(lines)
