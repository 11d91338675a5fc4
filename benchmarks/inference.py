#!/usr/bin/env python
"""Inference at scale: ``bundle.predict_proba`` on many texts, texts/s and peak memory.

    python benchmarks/inference.py --bundle runs/imdb              # the 25k IMDB test reviews

Loads the texts first (not timed), then times the whole path, tokenizing included, and
separately its two parts (the pipeline's ``transform``, then the network on the ids). Peak
resident memory is measured before and after, so the increase is what scoring costs.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IMDB = ROOT.parent / "shared" / "datasets" / "imdb_reviews.csv.gz"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", required=True)
    p.add_argument("--data", default=str(IMDB))
    p.add_argument("--split", default="test", help="rows of this split column value")
    p.add_argument("--batch-size", type=int, default=512)
    args = p.parse_args(argv)
    import numpy as np

    from transferlearn import load_bundle
    from transferlearn.data.readers import load_dataset
    from transferlearn.model.inference import predict_proba

    df = load_dataset(args.data)
    if "split" in df and args.split:
        df = df[df["split"] == args.split]
    texts = df["text"].tolist()
    bundle = load_bundle(args.bundle)
    bundle.predict_proba(texts[:512])  # warm-up: the inference graph
    before = peak_mb()
    tic = time.perf_counter()
    proba = bundle.predict_proba(texts, args.batch_size)
    whole = time.perf_counter() - tic
    after = peak_mb()
    tic = time.perf_counter()
    ids = bundle.transform(texts)
    tokenize = time.perf_counter() - tic
    tic = time.perf_counter()
    predict_proba(bundle.net, ids, args.batch_size)
    network = time.perf_counter() - tic
    labels = [bundle.labels.index(v) if v in bundle.labels else -1 for v in df["label"]]
    result = {"texts": len(texts), "texts_per_s": len(texts) / whole, "seconds": whole,
              "tokenize_s": tokenize, "network_s": network, "peak_rss_mb": after,
              "scoring_rss_mb": after - before,
              "accuracy": float((proba.argmax(1) == np.asarray(labels)).mean())}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
