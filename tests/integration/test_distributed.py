"""Distributed training on MXNet's parameter-server KVStore, 2 workers + 1 server on loopback."""
import json
import subprocess
import sys

import pytest
from conftest import ROOT, run_script

from transferlearn.bundle.store import load_bundle

ARGS = ["--encoder", "cnn", "--embed-dim", "32", "--num-filters", "32", "--max-len", "48",
        "--epochs", "3", "--seed", "0"]


def _launch(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "transferlearn", "launch", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture(scope="module")
def single_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "one"
    result = run_script("train_base.py", "--out", out, *ARGS, "--quiet")
    assert result.returncode == 0, result.stderr
    return json.loads((out / "metrics.json").read_text())


@pytest.mark.parametrize("kvstore,tolerance", [("dist_sync", 0.03), ("dist_async", 0.06)])
def test_two_workers_converge_like_one_and_rank0_writes_the_bundle(single_worker, kvstore,
                                                                    tolerance, tmp_path):
    logs = tmp_path / "logs"
    command = [sys.executable, "scripts/train_base.py", "--out", tmp_path / "two", *ARGS]
    if kvstore != "dist_sync":
        command += ["--kvstore", kvstore]
    result = _launch("-n", 2, "-s", 1, "--log-dir", logs, "--", *command)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("| accuracy |") == 1  # rank 0 alone reports
    assert f"distributed: 2 workers ({kvstore})" in result.stdout
    one = single_worker
    two = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert two["accuracy"] == pytest.approx(one["accuracy"], abs=tolerance)
    assert two["n_train"] == one["n_train"]  # every worker sees the data; each trains on half
    assert two["accuracy"] > 0.65
    bundle = load_bundle(tmp_path / "two")
    assert bundle.predict(["a wonderful, moving film", "dull and lifeless"]) is not None
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        ".transferlearn.json", "config.json", "history.png", "metrics.json", "model.params",
        "vocab.json"]
    # the rank-1 worker sent its (quiet) output to its log; rank 0 printed live
    (other,) = list(logs.iterdir())
    assert "| accuracy |" not in other.read_text()


@pytest.mark.parametrize("strategy,more", [("fine-tune", []),
                                           ("dann", ["--source-rows", "300"])])
def test_transfer_runs_distributed(base_bundle, amazon_slice, tmp_path, strategy, more):
    """Every strategy trains on the distributed kvstore (domain alignment included: the one
    training loop splits its source and target-text batches across the workers)."""
    result = _launch("-n", 2, "--", sys.executable, "scripts/transfer.py", "--base",
                     base_bundle, "--data", amazon_slice, "--strategy", strategy,
                     "--epochs", "2", "--out", tmp_path / "t", "--quiet", *more)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert metrics["strategy"] == strategy and "scratch_check" not in metrics
    assert len(metrics["history"]) == 2
    load_bundle(tmp_path / "t")


def test_bad_input_gives_one_error_line_for_the_whole_run(tmp_path):
    result = _launch("-n", 2, "--", sys.executable, "scripts/train_base.py", "--data",
                     tmp_path / "missing.csv", "--out", tmp_path / "x", *ARGS)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: file not found: {tmp_path / 'missing.csv'} (bundled data sets: "
                     "movie_snippets, amazon_snippets)"], result.stderr
    assert not (tmp_path / "x").exists()


def test_dist_kvstore_outside_a_launched_run_is_a_clear_error(tmp_path):
    result = run_script("train_base.py", "--out", tmp_path / "x", "--kvstore", "dist_sync")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: --kvstore dist_sync needs the DMLC_* environment")
    assert "start it with: transferlearn launch -n WORKERS -- transferlearn train-base" in line


def test_gpus_on_a_cpu_build_is_a_clear_error(tmp_path):
    result = run_script("train_base.py", "--out", tmp_path / "x", "--gpus", "0")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "--gpus 0: GPU 0 is not available" in line


def test_launcher_needs_a_command():
    result = _launch("-n", 2)
    assert result.returncode == 2 and "give the worker command after --" in result.stderr
