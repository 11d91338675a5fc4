"""The two scripts run end to end as a user runs them: the bundle, metrics, the table, --help,
and one run at a time on an output."""
import json

import pandas as pd
from conftest import run_script

SMALL = ["--encoder", "mean", "--embed-dim", "16", "--hidden-size", "16", "--max-len", "24",
         "--epochs", "2"]


def test_train_base_then_transfer_end_to_end(movie_slice, amazon_slice, tmp_path):
    base = tmp_path / "base"
    result = run_script("train_base.py", "--data", movie_slice, "--out", base, *SMALL)
    assert result.returncode == 0, result.stderr
    assert "| accuracy |" in result.stdout and "train_base:" in result.stdout
    metrics = json.loads((base / "metrics.json").read_text())
    assert {"accuracy", "roc_auc", "n_train", "n_test"} <= set(metrics)
    assert metrics["n_test"] == 160 and 0.0 <= metrics["accuracy"] <= 1.0
    # output to a pipe (a log file): no progress bars, no carriage returns, and every epoch
    # line at the start of its own line
    assert "\r" not in result.stdout + result.stderr
    epoch_lines = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) == len(metrics["history"]) >= 1
    assert (base / "history.png").read_bytes()[:4] == b"\x89PNG"  # the training history

    out = tmp_path / "target"
    result = run_script("transfer.py", "--base", base, "--data", amazon_slice,
                        "--strategy", "all", "--train-size", "200", "--epochs", "2",
                        "--out", out, "--tsne", tmp_path / "tsne.png")
    assert result.returncode == 0, result.stderr
    for name in ("source-only", "tfidf-logreg", "catboost-text", "embedding-logreg", "scratch",
                 "feature-extract", "fine-tune", "ensemble", "prior", "blend", "auto"):
        assert f"| {name} |" in result.stdout
    assert "strategy 8/8: auto" in result.stdout and "baseline 3/3" in result.stdout
    assert "\r" not in result.stdout + result.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert table.loc[table.strategy == "fine-tune", "n_train"].item() == 200
    tuned = json.loads((out / "fine-tune" / "metrics.json").read_text())
    assert tuned["vocabulary"]["copied"] > 0 and tuned["vocabulary"]["new"] > 0
    assert tuned["n_test"] == 120
    assert (tmp_path / "tsne.png").stat().st_size > 10_000

    single = run_script("transfer.py", "--base", base, "--data", amazon_slice, "--strategy",
                        "feature-extract", "--train-size", "100", "--epochs", "1", "--out",
                        tmp_path / "fx", "--quiet", "--tsne", tmp_path / "fx-tsne.png")
    assert single.returncode == 0, single.stderr
    # --tsne adds a figure and changes nothing else: OUT is the strategy's bundle, as without
    assert (tmp_path / "fx" / "config.json").is_file()
    assert not (tmp_path / "fx" / "feature-extract").exists()
    assert (tmp_path / "fx-tsne.png").stat().st_size > 10_000
    fx = json.loads((tmp_path / "fx" / "metrics.json").read_text())
    assert fx["frozen"] and all(n.startswith(("embedding.", "encoder.")) for n in fx["frozen"])


def test_help_lists_the_flags():
    for name, flag in (("train_base.py", "--encoder"), ("transfer.py", "--strategy")):
        result = run_script(name, "--help")
        assert result.returncode == 0 and flag in result.stdout


def test_a_second_run_on_the_same_out_is_refused_while_the_first_holds_it(movie_slice,
                                                                           tmp_path):
    from transferlearn.io.outputs import output_lock

    out = tmp_path / "base"
    with output_lock(out):
        result = run_script("train_base.py", "--data", movie_slice, "--out", out, *SMALL)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: another run is writing to {out}; wait for it to "
                                     "finish or choose another output")
    assert not out.exists()
    again = run_script("train_base.py", "--data", movie_slice, "--out", out, *SMALL)
    assert again.returncode == 0, again.stderr  # released when the holder is done
