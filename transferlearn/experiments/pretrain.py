"""Self-supervised token vectors from unlabelled text: ``pretrain(**settings)``.

Skip-gram with negative sampling (gensim's word2vec) over the texts of one or more sources,
tokenized exactly as the text pipeline tokenizes (lower-cased, the same pattern), so every
vector lands on a vocabulary token. The result is a ``vectors.vec`` file (word2vec text
format) that ``train_base(init_vectors=...)`` / ``--init-vectors`` starts the embedding from.

Why skip-gram: per CPU minute it is the cheapest way to put unlabelled text into the
embedding. Measured here on 2 cores: gensim's skip-gram went through IMDB's and the hotel
reviews' 13.6M tokens 5 times in 3.5 minutes (about 325k tokens/s); a pure-MXNet skip-gram
is 6-10x slower; a 1-layer LSTM-128 language model with sampled softmax runs at about 30k
tokens/s (7.5 minutes per epoch of that text), and an AWD-LSTM-size model does not fit this
machine.
"""
from __future__ import annotations

import json
import os
import time

from ..config import PretrainRun, plain, signature
from ..data.pipeline import make_pipeline
from ..data.readers import unlabeled_texts
from ..data.sources import source_list
from ..errors import DataError
from ..io.storage import atomic_write, output_dir
from ..log import logger, verbosity
from ..model.vectors import VECTORS_FILE
from .common import locked, settings_line


def pretrain(**settings) -> dict:
    """Learn token vectors from the texts of `data` (one source or a list; labels, if any, are
    not read) and write ``vectors.vec`` and ``pretrain.json`` to `out`.

    Every keyword is a field of :class:`~transferlearn.config.PretrainRun`. Returns the
    summary that ``pretrain.json`` holds: sources with their text counts, tokens read,
    vocabulary size and seconds.
    """
    return _pretrain(PretrainRun(**settings))


pretrain.__signature__ = signature(PretrainRun)  # type: ignore[attr-defined]


@locked
def _pretrain(s: PretrainRun) -> dict:
    from gensim.models import Word2Vec

    with verbosity(s.verbose):
        logger.info(settings_line("pretrain", s))
        started = time.perf_counter()
        texts, counts = [], {}
        if s.data is None:
            raise DataError("pretrain needs --data: one or more text sources (comma-separated)")
        for source in source_list(s.data):
            more = unlabeled_texts(source, verbose=s.verbose, text_col=s.text_col)
            counts[str(source)] = len(more)
            texts += more
            logger.info(f"{source}: {len(more):,} texts")
        tokenize = make_pipeline()[:-2]  # impute, lower-case, tokenize: as the bases do
        sentences = tokenize.fit_transform(texts)
        n_tokens = sum(map(len, sentences))
        logger.info(f"{len(sentences):,} texts, {n_tokens:,} tokens")
        workers = s.workers or os.cpu_count() or 1
        model = Word2Vec(vector_size=s.embed_dim, window=s.window, min_count=s.min_count,
                         sg=1, negative=s.negative, workers=workers, seed=s.seed)
        if n_tokens == 0:
            raise DataError(f"{s.data}: no tokens to learn vectors from (the texts are empty)")
        model.build_vocab(sentences)
        if len(model.wv) == 0:
            raise DataError(_too_rare(sentences, s.min_count))
        model.train(sentences, total_examples=len(sentences), epochs=s.epochs,
                    callbacks=[_EpochLog(s.epochs)])
        summary = {"sources": counts, "texts": len(sentences), "tokens": n_tokens,
                   "vectors": len(model.wv), "embed_dim": s.embed_dim, "workers": workers,
                   "seconds": round(time.perf_counter() - started, 1),
                   "settings": {k: v for k, v in plain(s).items() if k != "verbose"}}
        with output_dir(s.out, quiet=not s.verbose) as local:
            local.mkdir(parents=True, exist_ok=True)
            with atomic_write(local / VECTORS_FILE) as handle:
                _write_vec(model.wv, handle)
            with atomic_write(local / "pretrain.json") as handle:
                json.dump(summary, handle, indent=2)
        logger.info(f"{len(model.wv):,} vectors of {s.embed_dim} dimensions from "
                    f"{n_tokens:,} tokens in {summary['seconds']:.0f} s; written to "
                    f"{s.out}/{VECTORS_FILE}")
        return summary


def _too_rare(sentences, min_count: int) -> str:
    from collections import Counter

    token, count = Counter(t for tokens in sentences for t in tokens).most_common(1)[0]
    return (f"no token occurs --min-count {min_count:,} times (the most frequent, {token!r}, "
            f"occurs {count:,}); lower --min-count")


def _write_vec(vectors, handle) -> None:
    """word2vec's text format: a ``count dim`` header, then ``token v1 ... vd`` per line."""
    handle.write(f"{len(vectors)} {vectors.vector_size}\n")
    for token in vectors.index_to_key:
        handle.write(token + " " + " ".join(f"{x:.5g}" for x in vectors[token]) + "\n")


class _EpochLog:
    """gensim callback: one line per epoch (gensim trains in C threads; each epoch's end is a
    real sync point, so the times are true)."""

    def __init__(self, epochs: int):
        self.epochs, self.epoch, self.last = epochs, 0, time.perf_counter()

    def on_train_begin(self, model):
        self.last = time.perf_counter()

    def on_epoch_begin(self, model):
        pass

    def on_epoch_end(self, model):
        self.epoch += 1
        now = time.perf_counter()
        logger.info(f"epoch {self.epoch:3d}/{self.epochs}  {now - self.last:.1f}s")
        self.last = now

    def on_train_end(self, model):
        pass


__all__ = ["pretrain"]
