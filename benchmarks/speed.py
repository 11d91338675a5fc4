#!/usr/bin/env python
"""Training and inference speed of transferlearn (MXNet) against plain PyTorch, side by side.

The same three architectures (mean, cnn, bilstm), sizes, data (the bundled movie snippets,
80/20 split), sequence length, batch size, optimiser (Adam, lr 1e-3) and number of epochs run
in both frameworks; each (framework, architecture) pair runs in its own subprocess so that
its peak resident memory is its own. Reported per row: training and inference samples/s,
peak RSS, test accuracy after the same epochs (so nothing is faster by doing less), and the
MXNet/PyTorch ratio. Training samples/s times the model's forward+backward FLOPs per sample
gives the share of the cores' peak arithmetic rate that training reaches.

    python benchmarks/speed.py                     # all rows, markdown table on stdout
    python benchmarks/speed.py --epochs 1 --arch mean --out results.md

PyTorch is a benchmark-only dependency: ``pip install -r benchmarks/requirements.txt``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARCHS = ("mean", "cnn", "bilstm")
SIZES = {"embed_dim": 128, "hidden_size": 100, "num_filters": 100, "kernel_sizes": (3, 4, 5)}


def load_data(max_len: int, seed: int):
    """Token ids and labels from the bundled movie snippets, through the package pipeline."""
    from transferlearn.data.readers import load_dataset
    from transferlearn.data.splits import split_train_test
    from transferlearn.data.text import make_pipeline

    df = load_dataset("movie_snippets")
    train, test = split_train_test(df, 0.2, seed)
    labels = sorted(df["label"].unique())
    pipe = make_pipeline(max_len=max_len)
    X_train, X_test = pipe.fit_transform(train["text"]), pipe.transform(test["text"])
    y_train = train["label"].map(labels.index).to_numpy()
    y_test = test["label"].map(labels.index).to_numpy()
    vocab_size = len(pipe.named_steps["index"].vocab_)
    return X_train, y_train, X_test, y_test, vocab_size


def flops_per_sample(arch: str, seq_len: int, vocab_size: int) -> float:
    """Multiply-adds x 2 of one forward pass (embedding lookups are free); x3 for training."""
    e, h, f, ks = (SIZES["embed_dim"], SIZES["hidden_size"], SIZES["num_filters"],
                   SIZES["kernel_sizes"])
    if arch == "mean":
        body, out = seq_len * e * h, h
    elif arch == "cnn":
        body, out = sum(seq_len * e * f * k for k in ks), f * len(ks)
    else:  # 4 gates, input and recurrent weights, two directions
        body, out = 2 * seq_len * 4 * h * (e + h), 2 * h
    return 2.0 * (body + out * 2)


def run_mxnet(arch, data, epochs, batch_size, seed) -> dict:
    import mxnet as mx

    from transferlearn.model.inference import predict_proba
    from transferlearn.model.network import TextClassifier
    from transferlearn.training import fit

    X_train, y_train, X_test, y_test, vocab_size = data
    mx.random.seed(seed)
    net = TextClassifier(vocab_size, 2, encoder=arch, embed_dropout=0.5, **SIZES)
    net.initialize(mx.init.Xavier())
    history = fit(net, X_train, y_train, num_epochs=epochs, batch_size=batch_size,
                  random_state=seed, verbose=False)
    predict_proba(net, X_test[:512])  # warm-up: build the inference graph
    tic = time.perf_counter()
    proba = predict_proba(net, X_test, batch_size=512)
    infer = time.perf_counter() - tic
    return {"train_seconds": history.seconds, "infer_seconds": infer,
            "accuracy": float((proba.argmax(1) == y_test).mean())}


def run_torch(arch, data, epochs, batch_size, seed) -> dict:
    import numpy as np
    import torch
    from torch import nn

    X_train, y_train, X_test, y_test, vocab_size = data
    torch.manual_seed(seed)
    e, h, f, ks = (SIZES["embed_dim"], SIZES["hidden_size"], SIZES["num_filters"],
                   SIZES["kernel_sizes"])

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, e)
            nn.init.uniform_(self.embedding.weight, -0.1, 0.1)  # as TextClassifier does
            self.embed_dropout = nn.Dropout(0.5)
            if arch == "mean":
                self.encoder, units = nn.Sequential(nn.Linear(e, h), nn.ReLU()), h
            elif arch == "cnn":
                self.encoder = nn.ModuleList(nn.Conv1d(e, f, k, padding=k // 2) for k in ks)
                units = f * len(ks)
            else:
                self.encoder, units = nn.LSTM(e, h, batch_first=True, bidirectional=True), 2 * h
            self.dropout = nn.Dropout(0.5)
            self.output = nn.Linear(units, 2)

        def forward(self, x):
            mask = (x != 0).float().unsqueeze(2)  # (batch, seq, 1)
            emb = self.embed_dropout(self.embedding(x) * mask)
            if arch == "mean":
                enc = self.encoder(emb)
                pooled = (enc * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            else:
                if arch == "cnn":
                    xt = emb.transpose(1, 2)
                    enc = torch.cat([torch.relu(c(xt))[:, :, :x.shape[1]] for c in self.encoder],
                                    1).transpose(1, 2)
                else:
                    enc, _ = self.encoder(emb)
                pooled = (enc + (mask - 1.0) * 1e4).max(1).values * mask.sum(1).clamp(max=1.0)
            return self.output(self.dropout(pooled))

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    X = torch.as_tensor(X_train, dtype=torch.long)
    y = torch.as_tensor(y_train, dtype=torch.long)
    rng = np.random.RandomState(seed)
    tic = time.perf_counter()
    for _ in range(epochs):
        net.train()
        for idx in np.array_split(rng.permutation(len(X)), -(-len(X) // batch_size)):
            idx = torch.as_tensor(idx)
            opt.zero_grad()
            loss_fn(net(X[idx]), y[idx]).backward()
            opt.step()
    train = time.perf_counter() - tic
    net.eval()
    X_t = torch.as_tensor(X_test, dtype=torch.long)
    with torch.no_grad():
        net(X_t[:512])
        tic = time.perf_counter()
        logits = torch.cat([net(X_t[i:i + 512]) for i in range(0, len(X_t), 512)])
        infer = time.perf_counter() - tic
    return {"train_seconds": train, "infer_seconds": infer,
            "accuracy": float((logits.argmax(1).numpy() == y_test).mean())}


def worker(framework: str, arch: str, args) -> dict:
    data = load_data(args.max_len, args.seed)
    run = run_mxnet if framework == "mxnet" else run_torch
    result = run(arch, data, args.epochs, args.batch_size, args.seed)
    n_train, n_test = len(data[0]), len(data[2])
    result.update(framework=framework, arch=arch,
                  train_per_s=n_train * args.epochs / result["train_seconds"],
                  infer_per_s=n_test / result["infer_seconds"],
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  flops_per_sample=flops_per_sample(arch, args.max_len, data[4]))
    return result


def peak_gflops(cores: int) -> float | None:
    """Peak FP32 rate of the cores: cores x GHz x FLOPs/cycle (AVX-512 FMA x2: 64, AVX2: 32)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    mhz = [float(line.split(":")[1]) for line in info.splitlines() if line.startswith("cpu MHz")]
    if not mhz:
        return None
    per_cycle = 64 if "avx512f" in info else 32 if "avx2" in info else 16
    return cores * max(mhz) / 1000 * per_cycle


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in
                     Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {len(os.sched_getaffinity(0))} cores, {platform.system()}"


def table(results: list[dict], cores: int) -> str:
    peak = peak_gflops(cores)
    lines = ["| arch | framework | train samples/s | infer samples/s | peak RSS MB | accuracy "
             "| MXNet/PyTorch train | MXNet/PyTorch infer | % of peak (train) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    by = {(r["arch"], r["framework"]): r for r in results}
    for (arch, fw), r in by.items():
        other = by.get((arch, "torch" if fw == "mxnet" else "mxnet"))
        ratios = ["", ""]
        if fw == "mxnet" and other:
            ratios = [f"{r['train_per_s'] / other['train_per_s']:.2f}",
                      f"{r['infer_per_s'] / other['infer_per_s']:.2f}"]
        share = (f"{100 * 3 * r['flops_per_sample'] * r['train_per_s'] / (peak * 1e9):.1f}"
                 if peak else "")
        lines.append(f"| {arch} | {fw} | {r['train_per_s']:,.0f} | {r['infer_per_s']:,.0f} | "
                     f"{r['peak_rss_mb']:,.0f} | {r['accuracy']:.3f} | {ratios[0]} | "
                     f"{ratios[1]} | {share} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default=",".join(ARCHS), help="comma list of mean, cnn, bilstm")
    p.add_argument("--frameworks", default="mxnet,torch")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-len", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="also write the markdown table here")
    p.add_argument("--worker", nargs=2, metavar=("FRAMEWORK", "ARCH"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker, args)))
        return 0
    try:
        import torch  # noqa: F401
    except ImportError:
        print("error: the benchmark needs PyTorch: pip install -r benchmarks/requirements.txt",
              file=sys.stderr)
        return 2
    cores = len(os.sched_getaffinity(0))
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(cores))}
    results = []
    for arch in args.arch.split(","):
        for fw in args.frameworks.split(","):
            cmd = [sys.executable, __file__, "--worker", fw, arch, "--epochs", str(args.epochs),
                   "--batch-size", str(args.batch_size), "--max-len", str(args.max_len),
                   "--seed", str(args.seed)]
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                print(f"error: {fw} {arch} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            r = results[-1]
            print(f"{fw:>6} {arch:<6} train {r['train_per_s']:,.0f}/s  infer "
                  f"{r['infer_per_s']:,.0f}/s  acc {r['accuracy']:.3f}", file=sys.stderr)
    text = (f"Machine: {machine()}; OMP_NUM_THREADS={env['OMP_NUM_THREADS']}; "
            f"{args.epochs} epochs, batch {args.batch_size}, seq {args.max_len}\n\n"
            + table(results, cores))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
