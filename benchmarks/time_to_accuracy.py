#!/usr/bin/env python
"""Time to accuracy: how many seconds each system takes, from the command a user types, to
reach a test accuracy, and its peak memory, on the same cores in one run.

Systems, each run in its own process (wall time from its start, reading and tokenizing
included; peak RSS from ``wait4``), on the same train/test rows:

- ``transferlearn-<encoder>``: ``transferlearn train-base --data D --encoder E --epochs k``
  with every other setting at its default, for several k (``--epochs``; the encoders'
  defaults train 10 epochs with early stopping); its test accuracy from ``metrics.json``;
- ``fasttext``: fastText supervised (``fasttext-wheel``; bigrams, dim 50, 2 threads, rate
  1.0 chosen on held-out training rows), texts lower-cased with punctuation split off,
  written to a file in shuffled order, trained for k epochs, the test texts predicted;
- ``tfidf-logreg``: scikit-learn's TF-IDF (word 1-2 grams) + logistic regression, C chosen
  by 5-fold CV (the package's ``--baselines tfidf-logreg``);
- ``torch-bag``: a PyTorch twin of the n-gram bag (``nn.EmbeddingBag`` over the same ids,
  naive-Bayes weights, ``SparseAdam`` for the table), scored after every epoch.

Workloads: ``imdb`` (the official 25k/25k split; ``--imdb PATH``, or ``transferlearn data get
imdb`` then ``--imdb data/imdb_reviews.csv.gz``) and ``snippets`` (the bundled movie
snippets, the package's 80/20 split, 3 seeds for the n-gram bag). The prediction rows time
``transferlearn predict`` on the test texts (a CSV in, a CSV out) against fastText's
``predict`` in a process that loads its model, reads the same CSV and writes its labels.

    python benchmarks/time_to_accuracy.py --imdb data/imdb_reviews.csv.gz   # make tta

Writes ``benchmarks/tta-<workload>.json``, ``benchmarks/tta-results.md`` (read in
``docs/speed.md``) and ``images/time_to_accuracy.png``. fastText and PyTorch are
benchmark-only dependencies (``benchmarks/requirements.txt``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
THRESHOLDS = {"imdb": (0.85, 0.88, 0.90), "snippets": (0.70, 0.75, 0.79)}
TOKEN = re.compile(r"\w+|[^\w\s]")


# ---- the children: each prints one JSON line -------------------------------------------

def _read(data: Path):
    import pandas as pd

    df = pd.read_csv(data)
    train, test = df[df["split"] == "train"], df[df["split"] == "test"]
    return train, test


def child_fasttext(data: Path, epochs: int, work: Path) -> dict:
    import fasttext

    started = time.perf_counter()
    train, test = _read(data)

    def line(text: str) -> str:
        return " ".join(TOKEN.findall(str(text).lower()))

    train = train.sample(frac=1.0, random_state=0)  # fastText reads in file order: shuffled
    with open(work / "ft.train", "w", encoding="utf-8") as handle:
        for text, label in zip(train["text"], train["label"], strict=True):
            handle.write(f"__label__{label} {line(text)}\n")
    # lr 1.0: the best of 0.1 (its default), 0.25, 0.5 and 1.0 on 2,500 of IMDB's training
    # reviews held out (0.851 / 0.899 / 0.905 / 0.911 after 5 epochs); the default at 5
    # epochs is 5 points worse
    model = fasttext.train_supervised(str(work / "ft.train"), wordNgrams=2, dim=50,
                                      epoch=epochs, lr=1.0, thread=2, verbose=0, seed=0)
    labels, _ = model.predict([line(t) for t in test["text"]])
    predicted = [x[0].replace("__label__", "") for x in labels]
    accuracy = float((test["label"].astype(str).to_numpy() == predicted).mean())
    model.save_model(str(work / "ft.bin"))
    return {"accuracy": accuracy, "train_seconds": time.perf_counter() - started}


def child_fasttext_predict(data: Path, work: Path) -> dict:
    import fasttext
    import pandas as pd

    model = fasttext.load_model(str(work / "ft.bin"))
    texts = pd.read_csv(data)["text"]
    labels, _ = model.predict([" ".join(TOKEN.findall(str(t).lower())) for t in texts])
    pd.DataFrame({"label": [x[0].replace("__label__", "") for x in labels]}).to_csv(
        work / "ft-pred.csv", index=False)
    return {"rows": len(texts)}


def child_tfidf(data: Path) -> dict:
    from transferlearn.sklearn.baselines import tfidf_logreg

    train, test = _read(data)
    model = tfidf_logreg().fit(train["text"].astype(str), train["label"])
    return {"accuracy": float((model.predict(test["text"].astype(str)) == test["label"]).mean())}


def child_torch_bag(data: Path, epochs: int) -> dict:
    """The n-gram bag in PyTorch on transferlearn's ids: mean of NB-weighted vectors, dropout,
    a linear head; per epoch the seconds since the process started and the test accuracy."""
    import numpy as np
    import torch

    from transferlearn.config import ENCODER_DEFAULTS, encoder_default
    from transferlearn.data.pipeline import make_pipeline, sample_lengths
    from transferlearn.model.network import log_count_ratio

    torch.manual_seed(0)
    torch.set_num_threads(2)
    train, test = _read(data)
    classes = sorted(train["label"].unique())
    y_tr = train["label"].map(classes.index).to_numpy()
    y_te = test["label"].map(classes.index).to_numpy()
    d = ENCODER_DEFAULTS["ngram"]
    max_len = encoder_default("max_len", "ngram", lambda: sample_lengths(train["text"]))
    pipe = make_pipeline(max_len=max_len, min_freq=d["min_freq"], ngrams=2)
    X_tr, X_te = pipe.fit_transform(train["text"]), pipe.transform(test["text"])
    vocab = len(pipe.named_steps["index"].vocab_)
    scale = torch.tensor(log_count_ratio(X_tr, y_tr, vocab, len(classes)))

    def bags(X):  # flat ids, offsets and per-position weights scale / length
        mask = X != 0
        lengths = mask.sum(axis=1)
        ids = torch.tensor(X[mask].astype(np.int64))
        offsets = torch.tensor(np.concatenate([[0], np.cumsum(lengths)[:-1]]))
        per = torch.tensor(np.repeat(1.0 / np.maximum(lengths, 1), lengths), dtype=torch.float32)
        return ids, offsets, per * scale[ids]

    table = torch.nn.EmbeddingBag(vocab, d["embed_dim"], mode="sum", sparse=True)
    torch.nn.init.uniform_(table.weight, -0.1, 0.1)
    head = torch.nn.Linear(d["embed_dim"], len(classes))
    optimizers = [torch.optim.SparseAdam(table.parameters(), lr=d["lr"]),
                  torch.optim.Adam(head.parameters(), lr=d["lr"])]
    drop = torch.nn.Dropout(0.5)
    test_bags, curve = bags(X_te), []
    rng = np.random.RandomState(0)
    for _ in range(epochs):
        order = rng.permutation(len(X_tr))
        table.train(), drop.train()
        for start in range(0, len(order), d["batch_size"]):
            rows = order[start:start + d["batch_size"]]
            ids, offsets, weights = bags(X_tr[rows])
            loss = torch.nn.functional.cross_entropy(
                head(drop(table(ids, offsets, per_sample_weights=weights))),
                torch.tensor(y_tr[rows]))
            for opt in optimizers:
                opt.zero_grad()
            loss.backward()
            for opt in optimizers:
                opt.step()
        drop.eval()
        with torch.no_grad():
            predicted = head(table(*test_bags[:2], per_sample_weights=test_bags[2])).argmax(1)
        curve.append({"seconds": time.perf_counter() - STARTED,
                      "accuracy": float((predicted.numpy() == y_te).mean())})
    return {"curve": curve}


STARTED = time.perf_counter()


def child_main(argv: list[str]) -> None:
    kind, data, work = argv[0], Path(argv[1]), Path(argv[2])
    epochs = int(argv[3]) if len(argv) > 3 else 1
    result = {"fasttext": lambda: child_fasttext(data, epochs, work),
              "fasttext-predict": lambda: child_fasttext_predict(data, work),
              "tfidf-logreg": lambda: child_tfidf(data),
              "torch-bag": lambda: child_torch_bag(data, epochs)}[kind]()
    print(json.dumps(result))


# ---- the parent -------------------------------------------------------------------------

GNU_TIME = Path("/usr/bin/time")


def timed(command: list[str]) -> tuple[float, float, str]:
    """Run `command`; its wall seconds, peak RSS in GB and stdout. The peak comes from GNU
    time when there is one: Linux carries a process's peak RSS over fork and exec, so a child
    of this (large) process would report at least this process's size."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        wrapped = ([str(GNU_TIME), "-f", "%M", "-o", str(peak_file), *command]
                   if GNU_TIME.exists() else command)
        with open(Path(tmp) / "out", "w+b") as out, open(Path(tmp) / "err", "w+b") as err:
            proc = subprocess.Popen(wrapped, stdout=out, stderr=err, cwd=ROOT)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            out.seek(0), err.seek(0)
            stdout, stderr = out.read().decode(), err.read().decode()
        peak_kb = (int(peak_file.read_text().split()[-1]) if peak_file.exists()
                   else usage.ru_maxrss)
    if status != 0:
        raise SystemExit(f"error: {' '.join(command)} failed:\n{stderr[-2000:]}")
    return wall, peak_kb / 1e6, stdout


def own(kind: str, data: Path, work: Path, epochs: int = 1) -> tuple[float, float, dict]:
    wall, peak, stdout = timed([sys.executable, __file__, "--child", kind, str(data), str(work),
                                str(epochs)])
    return wall, peak, json.loads(stdout.strip().splitlines()[-1])


def transferlearn_run(data: Path, encoder: str, epochs: int | None, work: Path,
                      seed: int = 0) -> dict:
    out = work / f"tl-{encoder}-{epochs}-{seed}"
    command = [sys.executable, "-m", "transferlearn", "train-base", "--data", str(data),
               "--encoder", encoder, "--out", str(out), "--seed", str(seed), "--quiet",
               "--overwrite"] + (["--epochs", str(epochs)] if epochs else [])
    wall, peak, _ = timed(command)
    metrics = json.loads((out / "metrics.json").read_text())
    return {"wall": wall, "peak_gb": peak, "accuracy": metrics["accuracy"],
            "train_seconds": metrics.get("train_seconds"), "epochs": epochs or "default",
            "bundle": str(out)}


def write_split(workload: str, imdb: Path | None, work: Path, seed: int = 0) -> Path:
    """The workload's rows as one CSV (text, label, split) that every system reads."""
    import pandas as pd

    from transferlearn.data.readers import load_dataset
    from transferlearn.data.splits import split_train_test

    if workload == "imdb":
        df = load_dataset(str(imdb))
        df = df[["text", "label", "split"]]
    else:
        train, test = split_train_test(load_dataset("movie_snippets"), 0.2, seed)
        df = pd.concat([train.assign(split="train"), test.assign(split="test")])
        df = df[["text", "label", "split"]]
    path = work / f"{workload}-{seed}.csv"
    df.to_csv(path, index=False)
    return path


def run_workload(workload: str, imdb: Path | None, work: Path, encoders: list[str],
                 epochs: list[int]) -> dict:
    data = write_split(workload, imdb, work)
    rows: dict[str, list] = {}
    for encoder in encoders:  # a point per epoch count (the bag), the defaults' run (all)
        counts = epochs if encoder == "ngram" else []
        rows[f"transferlearn-{encoder}"] = [transferlearn_run(data, encoder, k, work)
                                            for k in [*counts, None]]
        print(workload, encoder, rows[f"transferlearn-{encoder}"], flush=True)
    rows["fasttext"] = []
    for k in [*epochs, 5]:
        wall, peak, result = own("fasttext", data, work, k)
        rows["fasttext"].append({"wall": wall, "peak_gb": peak, "epochs": k, **result})
    wall, peak, result = own("tfidf-logreg", data, work)
    rows["tfidf-logreg"] = [{"wall": wall, "peak_gb": peak, **result}]
    wall, peak, result = own("torch-bag", data, work, max(epochs))
    rows["torch-bag"] = [{"wall": p["seconds"], "peak_gb": peak, "accuracy": p["accuracy"],
                          "epochs": i + 1} for i, p in enumerate(result["curve"])]
    print(workload, "baselines", {k: rows[k] for k in ("fasttext", "tfidf-logreg", "torch-bag")},
          flush=True)
    out: dict = {"rows": rows}
    if workload == "snippets":  # the bag's defaults over 3 seeds, each on its own split
        out["seeds"] = [transferlearn_run(write_split(workload, imdb, work, seed), "ngram",
                                          None, work, seed) for seed in range(3)]
    out["predict"] = predict_rows(data, work, rows["transferlearn-ngram"][-1]["bundle"])
    return out


def predict_rows(data: Path, work: Path, bundle: str) -> dict:
    import pandas as pd

    test = pd.read_csv(data)
    test = test[test["split"] == "test"][["text"]]
    texts = work / "predict-in.csv"
    test.to_csv(texts, index=False)
    wall, peak, _ = timed([sys.executable, "-m", "transferlearn", "predict", "--bundle", bundle,
                           "--input", str(texts), "--out", str(work / "tl-pred.csv"),
                           "--overwrite"])
    ft_wall, ft_peak, _ = own("fasttext-predict", texts, work)
    return {"rows": len(test), "transferlearn": {"wall": wall, "peak_gb": peak},
            "fasttext": {"wall": ft_wall, "peak_gb": ft_peak}}


def seconds_to(points: list[dict], threshold: float) -> float | None:
    """The least wall time among a system's runs that reached `threshold`."""
    times = [p["wall"] for p in points if p["accuracy"] >= threshold]
    return min(times) if times else None


def table(workload: str, result: dict) -> str:
    marks = THRESHOLDS[workload]
    head = (f"| system | {' | '.join(f's to {t:.2f}' for t in marks)} | final accuracy | "
            f"its wall s | peak RSS GB |")
    lines = [head, "|" + " --- |" * (len(marks) + 4)]
    for system, points in result["rows"].items():
        final = points[-1]
        reach = [seconds_to(points, t) for t in marks]
        lines.append(f"| {system} | " + " | ".join("—" if s is None else f"{s:.1f}"
                                                    for s in reach)
                     + f" | {final['accuracy']:.4f} | {final['wall']:.1f} | "
                       f"{max(p['peak_gb'] for p in points):.2f} |")
    return "\n".join(lines)


def figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6.5 * len(results), 4.5), squeeze=False)
    for ax, (workload, result) in zip(axes[0], results.items(), strict=True):
        for system, points in result["rows"].items():
            pts = sorted(points, key=lambda p: p["wall"])
            ax.plot([p["wall"] for p in pts], [p["accuracy"] for p in pts], "o-", label=system)
        ax.set_xscale("log")
        ax.set_xlabel("wall seconds from the command (log scale)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{workload}: accuracy against time, 2 cores")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine() -> str:
    import mxnet
    import numpy

    versions = [f"mxnet {mxnet.__version__}", f"numpy {numpy.__version__}",
                f"Python {platform.python_version()}"]
    for name in ("fasttext", "torch", "sklearn"):
        try:
            module = __import__(name)
            versions.append(f"{name} {getattr(module, '__version__', '0.9.2')}")
        except ImportError:
            pass
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; "
            + ", ".join(versions))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--imdb", type=Path, help="the IMDB CSV (transferlearn data get imdb)")
    p.add_argument("--workloads", default="imdb,snippets")
    p.add_argument("--encoders", default="ngram,mean,cnn")
    p.add_argument("--epochs", default="1,2,3", help="epoch counts of the bag and fastText")
    p.add_argument("--doc", type=Path, default=ROOT / "benchmarks" / "tta-results.md")
    p.add_argument("--figure", type=Path, default=ROOT / "images" / "time_to_accuracy.png")
    args = p.parse_args(argv)
    workloads = args.workloads.split(",")
    if "imdb" in workloads and (args.imdb is None or not args.imdb.is_file()):
        print("error: --imdb PATH is needed for the imdb workload (transferlearn data get imdb)",
              file=sys.stderr)
        return 2
    results = {}
    with tempfile.TemporaryDirectory(prefix="tta-") as tmp:
        for workload in workloads:
            results[workload] = run_workload(workload, args.imdb, Path(tmp),
                                             args.encoders.split(","),
                                             [int(k) for k in args.epochs.split(",")])
            for row in results[workload]["rows"].values():
                for point in row:
                    point.pop("bundle", None)
            (ROOT / "benchmarks" / f"tta-{workload}.json").write_text(
                json.dumps(results[workload], indent=1))
    figure(results, args.figure)
    text = [f"Machine: {machine()}.", ""]
    for workload, result in results.items():
        pred = result["predict"]
        text += [f"### {workload}", "", table(workload, result), ""]
        tl, ft = pred["transferlearn"], pred["fasttext"]
        text.append(f"Predict {pred['rows']:,} test texts (a process from start to CSV): "
                    f"transferlearn {tl['wall']:.1f} s ({pred['rows'] / tl['wall']:,.0f}/s, "
                    f"{tl['peak_gb']:.2f} GB), fastText {ft['wall']:.1f} s "
                    f"({pred['rows'] / ft['wall']:,.0f}/s, {ft['peak_gb']:.2f} GB).")
        if "seeds" in result:
            seeds = result["seeds"]
            text.append("The n-gram bag's defaults, seeds 0-2: accuracy "
                        + " / ".join(f"{s['accuracy']:.4f}" for s in seeds)
                        + f" (mean {sum(s['accuracy'] for s in seeds) / 3:.4f}), training "
                        + " / ".join(f"{s['train_seconds']:.1f}" for s in seeds) + " s.")
        text.append("")
    args.doc.write_text("\n".join(text))
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
    else:
        sys.exit(main())
