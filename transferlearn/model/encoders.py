"""The encoders that fill ``TextClassifier``'s ``encoder`` slot, and their registry.

Each maps token vectors ``(batch, seq_len, embed_dim)`` to ``(batch, seq_len, out_units)``.
An encoder with ``needs_lengths = True`` also receives each row's length; one with
``padding_invariant = False`` (none here) reads the padding, so its batches are never cut
to length buckets. Add an encoder by adding it to ``ENCODER_REGISTRY``.
"""
from __future__ import annotations

from mxnet.gluon import nn, rnn

from ..errors import DataError


class MeanEncoder(nn.HybridBlock):
    """A per-token dense layer (ReLU); with mean pooling this is a fastText-style model."""

    def __init__(self, embed_dim: int, hidden_size: int, **kwargs):
        super().__init__(**kwargs)
        self.out_units = hidden_size
        with self.name_scope():
            self.proj = nn.Dense(hidden_size, activation="relu", flatten=False, in_units=embed_dim)

    def hybrid_forward(self, F, x):  # (batch, seq_len, embed_dim)
        return self.proj(x)  # (batch, seq_len, hidden)


class CNNEncoder(nn.HybridBlock):
    """Kim (2014)-style parallel 1-D convolutions with several window sizes, ReLU.

    Alternatives measured for issue 17 (2 cores, batch 64, 64 tokens, 128 -> 3 x 100
    filters, hybridized training step): ``Conv2D`` on ``(N, 1, T, E)`` 1.2x slower;
    windows unfolded into one matrix + one GEMM per window 2.2x slower (MXNet's concat on the
    last axis alone costs 13 ms); unfolding with ``take`` or one GEMM with strided shifted
    sums 1.7x slower; one zero-padded convolution of the widest window instead of three
    (exact, no concat) 1.1x faster alone and no faster in the whole model. oneDNN's 1-D
    convolution stays; the time went to max pooling (see :class:`MaskedPooling`)."""

    def __init__(self, embed_dim: int, num_filters: int = 100, kernel_sizes=(3, 4, 5), **kwargs):
        super().__init__(**kwargs)
        self.out_units = num_filters * len(kernel_sizes)
        with self.name_scope():
            self.convs = nn.HybridSequential()
            for k in kernel_sizes:
                self.convs.add(
                    nn.Conv1D(num_filters, k, padding=k // 2, activation="relu",
                              in_channels=embed_dim)
                )

    def hybrid_forward(self, F, x):  # (batch, seq_len, embed_dim)
        x_t = F.transpose(x, axes=(0, 2, 1))  # (batch, embed_dim, seq_len)
        # Even windows give seq_len + 1 outputs: cut each map back to seq_len.
        maps = [F.slice_like(conv(x_t), x_t, axes=(2,)) for conv in self.convs._children.values()]
        y = F.concat(*maps, dim=1)  # (batch, filters * windows, seq_len)
        return F.transpose(y, axes=(0, 2, 1))  # (batch, seq_len, filters * windows)


class LengthLSTM(rnn.LSTM):
    """A bidirectional LSTM whose backward direction starts at each row's last token.

    MXNet 1.9's fused RNN takes sequence lengths on cuDNN only, so a plain bidirectional
    layer reads the trailing padding before the last token in its backward direction: the
    output then depends on how wide the batch is. Here each layer runs its two directions as
    two fused oneDNN calls, the backward one on the rows reversed within their lengths
    (``SequenceReverse``), and reverses its output back. The parameters are the layer's own
    (``l0_i2h_weight``, ``r0_h2h_bias``, ...), so bundles, cross-arch resizing and freezing
    patterns see the usual LSTM."""

    def __init__(self, hidden_size: int, num_layers: int = 1, **kwargs):
        super().__init__(hidden_size, num_layers=num_layers, layout="NTC", bidirectional=True,
                         use_sequence_length=True, **kwargs)

    def _forward_kernel(self, F, inputs, states, sequence_length, **kwargs):
        if not self.skip_states:
            raise ValueError("LengthLSTM starts every row from zero states; it takes none")
        x = F.swapaxes(inputs, 0, 1)  # (seq_len, batch, features)
        # zero begin states shaped from the input: a hybridized graph cannot infer the batch
        # of a slice of the layer's own (shape (0, 0, hidden)) begin state
        zero = F.sum(F.zeros_like(F.slice_axis(x, axis=0, begin=0, end=1)), axis=2,
                     keepdims=True)  # (1, batch, 1)
        zero = F.broadcast_axis(zero, axis=2, size=self._hidden_size)  # (1, batch, hidden)
        for layer in range(self._num_layers):
            outputs = []
            for direction in "lr":
                params = F._internal._rnn_param_concat(
                    *(kwargs[f"{direction}{layer}_{g}_{t}"].reshape(-1)
                      for t in ("weight", "bias") for g in ("i2h", "h2h")), dim=0)
                seq = x if direction == "l" else F.SequenceReverse(
                    x, sequence_length, use_sequence_length=True)  # last token first
                out = F.RNN(seq, params, zero, zero, state_size=self._hidden_size, num_layers=1,
                            mode="lstm", state_outputs=False)  # (seq_len, batch, hidden)
                outputs.append(out if direction == "l" else F.SequenceReverse(
                    out, sequence_length, use_sequence_length=True))
            x = F.concat(*outputs, dim=2)  # (seq_len, batch, 2 * hidden)
            if self._dropout and layer < self._num_layers - 1:
                x = F.Dropout(x, p=self._dropout)
        return F.swapaxes(x, 0, 1), states  # (batch, seq_len, 2 * hidden); states unused


class BiLSTMEncoder(nn.HybridBlock):
    """A bidirectional LSTM over each row's tokens only (:class:`LengthLSTM`).

    Padding-invariant: trailing padding changes no output at a token's position, so training
    batches may be cut to length buckets and inference batches to their longest row. (Until
    issue 17's second round the backward direction read the padding: the fused operator
    takes lengths on cuDNN only.) The two oneDNN calls and the reversals cost 25-30% more
    than one bidirectional call (forward + backward of a (64, 64, 128) batch: 49-53 against
    39-40 ms, 2 cores); buckets repay it on short texts (snippets: 1,432 against 871
    samples/s before), not on IMDB's long reviews (207 against 219).
    """

    needs_lengths = True

    def __init__(self, embed_dim: int, hidden_size: int = 100, num_layers: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.out_units = 2 * hidden_size
        with self.name_scope():
            self.lstm = LengthLSTM(hidden_size, num_layers=num_layers, input_size=embed_dim)

    def hybrid_forward(self, F, x, lengths):  # x (batch, seq_len, embed_dim), lengths (batch,)
        return self.lstm(x, sequence_length=lengths)  # (batch, seq_len, 2 * hidden)


class NgramEncoder(nn.HybridBlock):
    """The bag of n-grams: token and n-gram vectors pass through as they are (mean pooling
    then averages them, as fastText does); no parameters of its own."""

    def __init__(self, embed_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.out_units = embed_dim

    def hybrid_forward(self, F, x):  # (batch, seq_len, embed_dim)
        return F.identity(x)  # (batch, seq_len, embed_dim)


# name -> (block from (embed_dim, hidden_size, num_filters, kernel_sizes), default pooling)
ENCODER_REGISTRY = {
    "cnn": (lambda e, h, f, k: CNNEncoder(e, f, tuple(k)), "max"),
    "bilstm": (lambda e, h, f, k: BiLSTMEncoder(e, h), "max"),
    "mean": (lambda e, h, f, k: MeanEncoder(e, h), "mean"),
    "ngram": (lambda e, h, f, k: NgramEncoder(e), "mean"),
}
ENCODERS = tuple(ENCODER_REGISTRY)
BAG_ENCODERS = ("mean", "ngram")  # per-token encoders: word order does not matter


def bag_options(encoder: str, ngrams: int | None, nb_scale: bool | None) -> tuple[int, bool]:
    """The n-gram order and naive-Bayes scaling a run uses: None means the encoder's default
    (bigrams with NB weights for ``ngram``, plain tokens otherwise). N-grams are tokens of a
    bag, so a sequence encoder (cnn, bilstm) refuses them."""
    bag = encoder in BAG_ENCODERS
    ngrams = ngrams if ngrams is not None else (2 if encoder == "ngram" else 1)
    if ngrams > 1 and not bag:
        raise DataError(f"--ngrams {ngrams} needs a bag encoder ({', '.join(BAG_ENCODERS)}); "
                        f"{encoder} reads tokens in order")
    return ngrams, bool(encoder == "ngram" if nb_scale is None else nb_scale)


def make_encoder(encoder: str, embed_dim: int, hidden_size: int, num_filters: int,
                 kernel_sizes) -> nn.HybridBlock:
    """The encoder block named `encoder`."""
    if encoder not in ENCODER_REGISTRY:
        raise ValueError(f"unknown encoder {encoder!r}; choose one of {', '.join(ENCODERS)}")
    return ENCODER_REGISTRY[encoder][0](embed_dim, hidden_size, num_filters, kernel_sizes)
