#!/usr/bin/env python
"""Base accuracy for each encoder x initialisation, with training time, peak memory and
zero-label accuracy on a target domain (the README's "Stronger bases" table).

Rows: encoders (cnn, bilstm, mean, ngram) x initialisations (random; self-trained skip-gram
vectors from ``transferlearn pretrain``; several sources) on the bundled movie snippets and on
IMDB (``../shared/datasets``, the official 25k/25k split). Each run is a subprocess (its peak
RSS is its own) that trains a base with :func:`transferlearn.experiments.train_base`, scores
its test split, then uses the base as it is, with no target label, on every row of the
target (Amazon snippets for the movie snippets, the 1,600 hotel reviews for IMDB).

Vectors for the snippets are learned from the movie and Amazon snippets' texts; for IMDB from
IMDB's 50k texts and the hotel texts. Reading IMDB's test texts (no labels) is transductive
for IMDB's own test score, and fine for the transfer targets; the table says so.

    python benchmarks/bases.py --suite snippets --seeds 3
    python benchmarks/bases.py --suite imdb --seeds 1 --out benchmarks/bases-imdb.json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMDB = ROOT.parent / "shared" / "datasets" / "imdb_reviews.csv.gz"
HOTEL = ROOT.parent / "shared" / "datasets" / "hotel_reviews_deceptive_opinion.csv.gz"

# (encoder, settings): the README's settings per data set (IMDB: long texts, rarer tokens cut;
# the n-gram bag's defaults follow the data)
SUITES = {
    "snippets": {
        "data": "movie_snippets", "target": "amazon_snippets",
        "vector_sources": "movie_snippets,amazon_snippets", "several": f"movie_snippets,{IMDB}",
        "encoders": {"cnn": {}, "bilstm": {}, "mean": {}, "ngram": {}},
    },
    "imdb": {
        "data": str(IMDB), "target": str(HOTEL), "vector_sources": f"{IMDB},{HOTEL}",
        "several": f"{IMDB},movie_snippets",
        "encoders": {
            "cnn": {"max_len": 256, "min_freq": 3, "epochs": 6},
            "bilstm": {"max_len": 256, "min_freq": 3, "epochs": 4, "batch_size": 128},
            "mean": {"max_len": 256, "min_freq": 3, "epochs": 6},
            "ngram": {},  # its defaults fit the data (max_len from the texts' lengths)
        },
    },
}

CHILD = r"""
import json, resource, sys, time
import numpy as np
from transferlearn.experiments import train_base
from transferlearn.bundle.store import load_bundle
from transferlearn.data.readers import load_dataset
args = json.loads(sys.argv[1])
target = args.pop("target")
metrics = train_base(verbose=False, **args)
bundle = load_bundle(args["out"])
df = load_dataset(target)
started = time.perf_counter()
predicted = np.asarray(bundle.predict(df["text"].tolist()))
zero = float((predicted == df["label"].astype(str).to_numpy()).mean())
print(json.dumps({"accuracy": metrics["accuracy"], "train_seconds": metrics["train_seconds"],
                  "best_epoch": metrics["best_epoch"], "zero_label": zero,
                  "predict_seconds": round(time.perf_counter() - started, 1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(settings: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(os.cpu_count()))}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(settings)], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"run failed: {settings}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def vectors_for(suite: dict, workdir: Path, embed_dim: int) -> tuple[str, dict]:
    from transferlearn.experiments import pretrain

    out = workdir / f"vectors-{embed_dim}"
    started = time.perf_counter()
    summary = pretrain(data=suite["vector_sources"], embed_dim=embed_dim, out=str(out),
                       verbose=False)
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    return str(out), summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--suite", choices=SUITES, default="snippets")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--encoders", default=None, help="comma list (default: all)")
    p.add_argument("--inits", default="random,vectors,several")
    p.add_argument("--missing", action="store_true",
                   help="run only the (encoder, init, seed) rows the results file lacks")
    p.add_argument("--out", default=None,
                   help="JSON results (default: benchmarks/bases-SUITE.json)")
    args = p.parse_args(argv)
    suite = SUITES[args.suite]
    encoders = args.encoders.split(",") if args.encoders else list(suite["encoders"])
    inits = args.inits.split(",")
    out = Path(args.out or ROOT / "benchmarks" / f"bases-{args.suite}.json")
    results = json.loads(out.read_text()) if out.exists() else {"runs": []}
    done = {_key(r) for r in results["runs"]} if args.missing else set()
    plan = [(encoder, init, seed) for encoder in encoders for init in inits
            for seed in range(args.seeds)
            if (args.suite, encoder, init, seed) not in done
            and (init != "several" or suite["several"])]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if any(init == "vectors" for _, init, _ in plan):
            vectors, summary = vectors_for(suite, workdir, 128)
            results["pretrain"] = summary
            print(f"pretrain: {summary['tokens']:,} tokens, {summary['vectors']:,} vectors, "
                  f"{summary['wall_seconds']} s", flush=True)
        for encoder, init, seed in plan:
            settings = {"data": suite["data"], "encoder": encoder, "seed": seed,
                        "out": str(workdir / f"{encoder}-{init}-{seed}"),
                        "target": suite["target"], **suite["encoders"][encoder]}
            if init == "vectors":
                settings["init_vectors"] = vectors
            if init == "several":
                settings["data"] = suite["several"]
            row = {"suite": args.suite, "encoder": encoder, "init": init,
                   "seed": seed, **run_child(settings)}
            results["runs"] = [r for r in results["runs"] if _key(r) != _key(row)]
            results["runs"].append(row)
            out.write_text(json.dumps(results, indent=1))
            print(json.dumps(row), flush=True)
    print(table(results["runs"]))
    return 0


def _key(run: dict) -> tuple:
    """What makes a row of the results file: a later run of the same key replaces it."""
    return tuple(run.get(k) for k in ("suite", "encoder", "init", "seed"))


def table(runs: list) -> str:
    """Markdown: mean over seeds per (suite, encoder, init)."""
    import pandas as pd

    df = pd.DataFrame(runs)
    groups = df.groupby(["suite", "encoder", "init"], sort=False)
    summary = groups.agg(seeds=("seed", "count"), accuracy=("accuracy", "mean"),
                         zero_label=("zero_label", "mean"), train_s=("train_seconds", "mean"),
                         peak_mb=("peak_rss_mb", "max")).reset_index()
    lines = ["| data | encoder | init | seeds | test acc | zero-label | train s | peak MB |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r.suite} | {r.encoder} | {r.init} | {r.seeds} | {r.accuracy:.3f} | "
              f"{r.zero_label:.3f} | {r.train_s:.0f} | {r.peak_mb:.0f} |"
              for r in summary.itertuples()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
