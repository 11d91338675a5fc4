#!/usr/bin/env python
"""Training and inference speed of transferlearn (MXNet) against plain PyTorch, side by side.

The same three architectures (mean, cnn, bilstm), sizes, data, sequence length, batch size,
optimiser (Adam, lr 1e-3) and number of epochs run in both frameworks, each written the way
its framework does it best (MXNet hybridized; PyTorch eager with batched-matmul masked mean,
masked_fill max, and a BiLSTM whose directions read each row to its length, as MXNet's do;
``--frameworks ...,torch-compile`` adds the same model through ``torch.compile``, which on
this workload compiles longer than it saves and crashed on the CNN: see the README's speed
section).
Each (workload, framework, architecture, repeat) runs in its own subprocess, so that its peak
resident memory is its own, and the repeats alternate between frameworks so that a slow
minute of a shared machine hits both. Workloads:

- ``snippets``: the bundled movie snippets (80/20 split), 64 tokens;
- ``imdb``: 5,000 reviews of the shared IMDB file (4,000 train / 1,000 test), 256 tokens.

Reported per row: training and inference samples/s (mean of the repeats), peak RSS, test
accuracy after the same epochs (so nothing is faster by doing less), the MXNet/PyTorch ratio
with its spread over the repeats, and the share of the cores' FP32 peak that training
reaches. ``--buckets N`` adds rows where both frameworks train on the same length-bucketed
batches (transferlearn's default for padded texts; the PyTorch twin gets the same batches).

    python benchmarks/speed.py                                  # every row, 3 repeats
    python benchmarks/speed.py --workload imdb --arch cnn --repeats 1 --out results.md

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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ARCHS = ("mean", "cnn", "bilstm")
SIZES = {"embed_dim": 128, "hidden_size": 100, "num_filters": 100, "kernel_sizes": (3, 4, 5)}


WORKLOADS = {"snippets": ("movie_snippets", 64, 1), "imdb": ("imdb", 256, 3)}
IMDB = ROOT.parent / "shared" / "datasets" / "imdb_reviews.csv.gz"


def load_data(workload: str, seed: int):
    """Token ids and labels of `workload`, through the package pipeline."""
    from transferlearn.data.pipeline import make_pipeline
    from transferlearn.data.readers import load_dataset
    from transferlearn.data.splits import split_train_test

    name, max_len, min_freq = WORKLOADS[workload]
    if workload == "imdb":
        df = load_dataset(str(IMDB)).drop(columns=["split"], errors="ignore")
        df = df.sample(5000, random_state=seed).reset_index(drop=True)
    else:
        df = load_dataset(name)
    train, test = split_train_test(df, 0.2, seed)
    labels = sorted(df["label"].unique())
    pipe = make_pipeline(max_len=max_len, min_freq=min_freq)
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


def torch_like_init(net) -> None:
    """PyTorch's default initialisation on an MXNet network (for the accuracy-parity
    study): weights and biases U(+-1/sqrt(fan_in)) (kaiming_uniform with a=sqrt(5)), LSTM
    parameters U(+-1/sqrt(hidden)); the embedding keeps U(+-0.1), as both sides use."""
    import mxnet as mx

    from transferlearn.model.network import named_parameters

    params = named_parameters(net)
    for name, param in params.items():
        if name.startswith("embedding"):
            continue
        if "lstm" in name:
            bound = 1.0 / SIZES["hidden_size"] ** 0.5
        else:
            weight = params[name.rsplit(".", 1)[0] + ".weight"].shape
            bound = 1.0 / (float(np.prod(weight[1:])) ** 0.5)
        param.set_data(mx.nd.random.uniform(-bound, bound, shape=param.shape))


def run_mxnet(arch, data, epochs, batch_size, seed, buckets=0, compile_=False,
              init="xavier") -> dict:
    import mxnet as mx

    from transferlearn.model.inference import predict_proba
    from transferlearn.model.network import TextClassifier
    from transferlearn.training import fit

    X_train, y_train, X_test, y_test, vocab_size = data
    mx.random.seed(seed)
    net = TextClassifier(vocab_size, 2, encoder=arch, embed_dropout=0.5, **SIZES)
    net.initialize(mx.init.Xavier())
    if init == "torch":
        torch_like_init(net)
    history = fit(net, X_train, y_train, num_epochs=epochs, batch_size=batch_size,
                  random_state=seed, verbose=False, length_buckets=buckets)
    predict_proba(net, X_test[:512])  # warm-up: build the inference graph
    tic = time.perf_counter()
    proba = predict_proba(net, X_test, batch_size=512)
    infer = time.perf_counter() - tic
    return {"train_seconds": history.seconds, "infer_seconds": infer,
            "accuracy": float((proba.argmax(1) == y_test).mean())}


def torch_batches(X, batch_size, rng, buckets):
    """Each epoch's (row ids, width) batches: shuffled, or the same length buckets as
    transferlearn's."""
    from transferlearn.model.inference import token_lengths
    from transferlearn.training.buckets import LengthBuckets

    if buckets:
        plan = LengthBuckets(np.maximum(1, token_lengths(X)), batch_size, buckets)
        return [(idx, plan.width(idx)) for idx in plan.batches(rng)]
    return [(idx, X.shape[1]) for idx in
            np.array_split(rng.permutation(len(X)), -(-len(X) // batch_size))]


def reversed_within_lengths(x, lengths):
    """PyTorch: each row's first ``lengths[i]`` steps in reverse order, the padding left in
    place (MXNet's ``SequenceReverse``); its own inverse. x (batch, seq, features)."""
    import torch

    steps = torch.arange(x.shape[1]).unsqueeze(0)  # (1, seq)
    ends = lengths.unsqueeze(1)  # (batch, 1)
    index = torch.where(steps < ends, ends - 1 - steps, steps)  # (batch, seq)
    return x.gather(1, index.unsqueeze(2).expand(-1, -1, x.shape[2]))


def torch_bilstm(encoder, emb, mask):
    """PyTorch twin of LengthLSTM: both directions read each row to its length. `encoder` is
    two ``nn.LSTM``s (the same algorithm as transferlearn's: the backward one on the rows
    reversed within their lengths), or one bidirectional ``nn.LSTM`` fed through
    ``pack_padded_sequence``, the textbook way, as fast here (framework ``torch-packed``:
    1,118 against 1,105 training samples/s on the snippets, one run of 1 epoch)."""
    import torch
    from torch import nn

    lengths = mask.sum((1, 2)).long().clamp(min=1)  # (batch,)
    if isinstance(encoder, nn.LSTM):
        seq = nn.utils.rnn.pack_padded_sequence(emb, lengths, batch_first=True,
                                                enforce_sorted=False)
        return nn.utils.rnn.pad_packed_sequence(encoder(seq)[0], batch_first=True,
                                                total_length=emb.shape[1])[0]
    forward, backward = encoder
    back = reversed_within_lengths(backward(reversed_within_lengths(emb, lengths))[0], lengths)
    return torch.cat([forward(emb)[0], back], 2)  # (batch, seq, 2 * hidden)


def run_torch(arch, data, epochs, batch_size, seed, buckets=0, compile_=False,
              packed=False) -> dict:
    import torch
    from torch import nn

    from transferlearn.model.inference import batch_widths

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
            elif packed:  # one bidirectional LSTM that packs the rows
                self.encoder, units = nn.LSTM(e, h, batch_first=True, bidirectional=True), 2 * h
            else:  # the two directions, as transferlearn's LengthLSTM
                self.encoder = nn.ModuleList(nn.LSTM(e, h, batch_first=True) for _ in "lr")
                units = 2 * h
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
                    enc = torch_bilstm(self.encoder, emb, mask)
                pooled = (enc + (mask - 1.0) * 1e4).max(1).values * mask.sum(1).clamp(max=1.0)
            return self.output(self.dropout(pooled))

    net = Net()
    model = torch.compile(net) if compile_ else net
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    X = torch.as_tensor(X_train, dtype=torch.long)
    y = torch.as_tensor(y_train, dtype=torch.long)
    rng = np.random.RandomState(seed)
    tic = time.perf_counter()
    for _ in range(epochs):
        net.train()
        for idx, width in torch_batches(X_train, batch_size, rng, buckets):
            idx = torch.as_tensor(idx)
            opt.zero_grad()
            loss_fn(model(X[idx, :width]), y[idx]).backward()
            opt.step()
    train = time.perf_counter() - tic  # includes torch.compile's compilations, as MXNet's
    net.eval()  # hybridization is in its first steps
    # inference as transferlearn's predict_logits does it: rows sorted by length and each
    # batch cut to its longest row (rounded up to 8); padding changes no output
    order, widths = batch_widths(X_test, 512)
    order = np.arange(len(X_test)) if order is None else order
    X_t = torch.as_tensor(X_test[order], dtype=torch.long)
    with torch.no_grad():
        model(X_t[:512])
        tic = time.perf_counter()
        logits = torch.cat([model(X_t[i:i + 512, :w]) for i, w in
                            zip(range(0, len(X_t), 512), widths, strict=True)])
        infer = time.perf_counter() - tic
    y_test = y_test[order]
    return {"train_seconds": train, "infer_seconds": infer,
            "accuracy": float((logits.argmax(1).numpy() == y_test).mean())}


def worker(framework: str, arch: str, args) -> dict:
    data = load_data(args.workload, args.seed)
    if framework.startswith("mxnet"):  # mxnet-torchinit: PyTorch's initialisation
        result = run_mxnet(arch, data, args.epochs, args.batch_size, args.seed, args.buckets,
                           init="torch" if framework == "mxnet-torchinit" else "xavier")
    else:
        result = run_torch(arch, data, args.epochs, args.batch_size, args.seed, args.buckets,
                           framework == "torch-compile", framework == "torch-packed")
    n_train, n_test = len(data[0]), len(data[2])
    result.update(framework=framework, arch=arch, workload=args.workload, buckets=args.buckets,
                  train_per_s=n_train * args.epochs / result["train_seconds"],
                  infer_per_s=n_test / result["infer_seconds"],
                  peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  flops_per_sample=flops_per_sample(arch, data[0].shape[1], data[4]))
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


def versions() -> str:
    """The library versions and thread settings the rows ran with."""
    import mxnet as mx
    import torch

    onednn = mx.runtime.Features().is_enabled("MKLDNN")
    return (f"mxnet {mx.__version__} (oneDNN {'on' if onednn else 'off'}), torch "
            f"{torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, "
            f"Python {platform.python_version()}; OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS')}")


def _mean_sd(values: list) -> tuple:

    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def table(results: list[dict], cores: int) -> str:
    """One row per (workload, arch, buckets, framework): means over the repeats; each
    framework's ratio to eager PyTorch's, repeat by repeat, as mean +- sd."""
    peak = peak_gflops(cores)
    lines = ["| workload | arch | framework | train samples/s | infer samples/s | peak RSS MB "
             "| accuracy | MXNet/PyTorch train | MXNet/PyTorch infer | % of peak (train) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    groups: dict = {}
    for r in results:
        groups.setdefault((r["workload"], r["arch"], r["buckets"], r["framework"]), []).append(r)
    for (workload, arch, buckets, fw), runs in groups.items():
        base = groups.get((workload, arch, buckets, "torch"), [])
        ratios = ["", ""]
        if fw != "torch" and len(base) == len(runs):
            for i, key in enumerate(("train_per_s", "infer_per_s")):
                mean, sd = _mean_sd([a[key] / b[key] for a, b in zip(runs, base, strict=True)])
                ratios[i] = f"{mean:.2f} ± {sd:.2f}"
        train, infer = (_mean_sd([r[k] for r in runs])[0] for k in ("train_per_s", "infer_per_s"))
        share = (f"{100 * 3 * runs[0]['flops_per_sample'] * train / (peak * 1e9):.1f}"
                 if peak and not buckets else "")  # bucketed rows: fewer FLOPs than counted
        name = f"{workload}, buckets" if buckets else workload
        lines.append(f"| {name} | {arch} | {fw} | {train:,.0f} | {infer:,.0f} | "
                     f"{max(r['peak_rss_mb'] for r in runs):,.0f} | "
                     f"{_mean_sd([r['accuracy'] for r in runs])[0]:.3f} | {ratios[0]} | "
                     f"{ratios[1]} | {share} |")
    return "\n".join(lines)


def _run_worker(args, run: tuple, fw: str, seed: int, env) -> dict:
    workload, arch, buckets = run
    cmd = [sys.executable, __file__, "--worker", fw, arch, "--workload", workload,
           "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
           "--seed", str(seed), "--buckets", str(buckets)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:  # recorded and reported; the other rows still run
        print(f"{workload:>8} {fw:>13} {arch:<6} buckets {buckets}: FAILED "
              f"({done.stderr.strip().splitlines()[-1:] or done.returncode})", file=sys.stderr)
        return {"framework": fw, "arch": arch, "workload": workload, "buckets": buckets,
                "failed": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{workload:>8} {fw:>13} {arch:<6} buckets {buckets}: train {r['train_per_s']:,.0f}/s"
          f"  infer {r['infer_per_s']:,.0f}/s  acc {r['accuracy']:.3f}", file=sys.stderr)
    return r


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", default="snippets,imdb", help="comma list of snippets, imdb")
    p.add_argument("--arch", default=",".join(ARCHS), help="comma list of mean, cnn, bilstm")
    p.add_argument("--frameworks", default="mxnet,torch",
                   help="comma list of mxnet, torch, torch-compile, torch-packed (the BiLSTM "
                        "through pack_padded_sequence), mxnet-torchinit (MXNet with PyTorch's "
                        "default initialisation)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--buckets", type=int, default=0,
                   help="also rows with this many length buckets")
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
    if "imdb" in args.workload.split(",") and not IMDB.exists():
        print(f"error: the imdb workload reads {IMDB}, which is missing (--workload snippets "
              "runs without it)", file=sys.stderr)
        return 2
    cores = len(os.sched_getaffinity(0))
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", str(cores))}
    os.environ["OMP_NUM_THREADS"] = env["OMP_NUM_THREADS"]
    runs = [(w, a, b) for w in args.workload.split(",") for a in args.arch.split(",")
            for b in ([0, args.buckets] if args.buckets else [0])]
    results = []
    for run in runs:
        for repeat in range(args.repeats):  # frameworks alternate within each repeat;
            for fw in args.frameworks.split(","):  # each repeat has its own seed
                if not (run[2] and fw == "torch-compile"):  # a shape per bucket: recompiles
                    results.append(_run_worker(args, run, fw, args.seed + repeat, env))
    failed = [r for r in results if "failed" in r]
    results = [r for r in results if "failed" not in r]
    text = (f"Machine: {machine()}; {versions()}; {args.epochs} epochs, batch "
            f"{args.batch_size}, mean of {args.repeats} repeats, seeds {args.seed}.."
            f"{args.seed + args.repeats - 1} (ratio: mean ± sd)\n\n"
            + table(results, cores)
            + "".join(f"\n\nFailed: {r['framework']} {r['arch']} on {r['workload']}: "
                      f"{r['failed']}" for r in failed))
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
        Path(args.out).with_suffix(".json").write_text(
            json.dumps(results + failed, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
