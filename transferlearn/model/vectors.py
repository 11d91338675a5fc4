"""Token vectors from a file: GloVe, word2vec (text) or fastText ``.vec``, local or ``s3://``.

:func:`load_vectors` reads the file with gluonnlp's ``TokenEmbedding.from_file`` (nothing is
downloaded); :func:`init_embedding` writes the vectors of the vocabulary's tokens into a
network's embedding and reports the coverage. An n-gram token (``"not good"``, see
:class:`~transferlearn.data.text.Ngrams`) with no vector of its own starts at the mean of its
words' vectors; a token with neither keeps its random initial vector.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import mxnet as mx
import numpy as np

from ..errors import DataError
from ..io.storage import local_path
from .network import named_parameters

VECTORS_FILE = "vectors.vec"  # what `transferlearn pretrain` writes into its --out directory


@dataclass
class VectorsReport:
    """How much of a vocabulary a vectors file covers."""

    path: str
    dim: int
    file_tokens: int  # vectors in the file
    vocab_size: int  # tokens of the vocabulary (specials excluded)
    found: int  # vocabulary tokens with a vector of their own
    from_words: int  # n-grams that start at the mean of their words' vectors
    type_coverage: float  # found / vocab_size
    token_coverage: float  # share of training token occurrences with a vector (own or words')

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        grams = f", {self.from_words:,} n-grams from their words" if self.from_words else ""
        return (f"vectors {self.path} ({self.file_tokens:,} x {self.dim}): {self.found:,} of "
                f"{self.vocab_size:,} vocabulary tokens found ({self.type_coverage:.1%}){grams}; "
                f"{self.token_coverage:.1%} of training token occurrences covered")


def load_vectors(location, quiet: bool = True):
    """A gluonnlp ``TokenEmbedding`` from a vectors file (or a ``pretrain`` output directory).

    Raises :class:`~transferlearn.errors.DataError` with one line for a file that is not a
    vectors file.
    """
    from gluonnlp.embedding import TokenEmbedding

    path = Path(local_path(location, quiet=quiet))
    if path.is_dir():
        path = path / VECTORS_FILE
        if not path.is_file():
            raise DataError(f"{location} is a directory without {VECTORS_FILE} (the output of "
                            f"`transferlearn pretrain`)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "skipped likely header line": word2vec's header
            embedding = TokenEmbedding.from_file(str(path), unknown_token=None)
    except (AssertionError, ValueError, UnicodeDecodeError, MemoryError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{location} is not a vectors file (token v1 v2 ... per line): "
                        f"{first}") from None
    if not embedding.idx_to_token:
        raise DataError(f"{location} holds no vectors")
    finite = np.isfinite(embedding.idx_to_vec.asnumpy()).all(axis=1)
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise DataError(f"{location}: the vector of {embedding.idx_to_token[i]!r} (vector "
                        f"{i + 1:,} of the file) is not finite (nan or inf); "
                        f"{int((~finite).sum()):,} such vector"
                        f"{'s' * (int((~finite).sum()) != 1)} in all")
    return embedding


def init_embedding(net, vocab, embedding, counts: np.ndarray | None = None,
                   path: str = "") -> VectorsReport:
    """Write `embedding`'s vectors into ``net.embedding`` for the tokens of `vocab`.

    `counts` (occurrences per token id in the training rows) weighs the token coverage.
    The widths must agree: the vectors' dimension is the network's ``embed_dim``.
    """
    param = named_parameters(net)["embedding.weight"]
    table = param.data().asnumpy()
    dim = embedding.idx_to_vec.shape[1]
    if dim != table.shape[1]:
        raise DataError(f"the vectors in {path or 'the file'} have {dim} dimensions but the "
                        f"network's embedding has {table.shape[1]}; pass --embed-dim {dim}")
    index = embedding.token_to_idx
    vectors = embedding.idx_to_vec.asnumpy()
    found = from_words = 0
    covered = np.zeros(len(vocab), dtype=bool)
    for i, token in enumerate(vocab.idx_to_token[2:], start=2):
        if token in index:
            table[i] = vectors[index[token]]
            found += 1
        elif " " in token and all(word in index for word in token.split(" ")):
            table[i] = vectors[[index[word] for word in token.split(" ")]].mean(axis=0)
            from_words += 1
        else:
            continue
        covered[i] = True
    param.set_data(mx.nd.array(table, ctx=param.list_ctx()[0]))
    counts = np.ones(len(vocab)) if counts is None else np.asarray(counts, dtype=float)
    counts = counts.copy()
    counts[:2] = 0  # padding and unknown tokens are not tokens of the vocabulary
    real = max(len(vocab) - 2, 1)
    return VectorsReport(str(path), int(dim), len(embedding.idx_to_token), len(vocab) - 2,
                         found, from_words, found / real,
                         float(counts[covered].sum() / max(counts.sum(), 1.0)))


def token_counts(X: np.ndarray, vocab_size: int) -> np.ndarray:
    """Occurrences of each token id in the id matrix `X` (padding included at id 0)."""
    return np.bincount(np.asarray(X).ravel(), minlength=vocab_size)


__all__ = ["VECTORS_FILE", "VectorsReport", "init_embedding", "load_vectors", "token_counts"]
