"""A training process killed with SIGKILL mid-epoch resumes to the uninterrupted result."""
import json
import os
import signal
import subprocess
import sys
import time

import mxnet as mx
import numpy as np
import pytest
from conftest import ROOT, run_script

from transferlearn.bundle.store import load_bundle

ARGS = ["--encoder", "cnn", "--embed-dim", "32", "--num-filters", "32", "--max-len", "48",
        "--epochs", "3", "--patience", "5", "--seed", "3", "--quiet"]


def _params(bundle_dir):
    return {k: v.asnumpy() for k, v in mx.nd.load(str(bundle_dir / "model.params")).items()}


def _kill_during_epoch_2(out):
    """Start train_base.py and SIGKILL it once epoch 1's checkpoint is in place."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "train_base.py"),
                             "--out", str(out), *ARGS], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    first = out / "checkpoints" / "epoch-0001"
    while not (first / "state.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no checkpoint appeared: {proc.communicate()[1].decode()[-2000:]}")
        time.sleep(0.02)
    time.sleep(0.5)  # well inside epoch 2 (an epoch takes several seconds)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.returncode


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(tmp_path):
    whole = tmp_path / "whole"
    result = run_script("train_base.py", "--out", whole, *ARGS)
    assert result.returncode == 0, result.stderr
    assert not (whole / "checkpoints").exists()  # the final bundle replaces them

    killed = tmp_path / "killed"
    assert _kill_during_epoch_2(killed) == -signal.SIGKILL
    # nothing partial: no bundle file, no temp file, only epoch 1's complete checkpoint
    left = sorted(str(p.relative_to(killed)) for p in killed.rglob("*"))
    assert left == ["checkpoints", "checkpoints/epoch-0001",
                    "checkpoints/epoch-0001/.transferlearn.json",
                    "checkpoints/epoch-0001/model.params",
                    "checkpoints/epoch-0001/optimizer.params",
                    "checkpoints/epoch-0001/state.json"], left
    state = json.loads((killed / "checkpoints" / "epoch-0001" / "state.json").read_text())
    assert state["epoch"] == 1 and len(state["history"]) == 1

    resumed = run_script("train_base.py", "--out", killed, "--resume",
                         *[a for a in ARGS if a != "--quiet"])
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout and "epoch 1 done" in resumed.stdout
    assert "epoch   1" not in resumed.stdout and "epoch   2" in resumed.stdout
    assert not (killed / "checkpoints").exists()

    a = json.loads((whole / "metrics.json").read_text())
    b = json.loads((killed / "metrics.json").read_text())
    assert b["accuracy"] == pytest.approx(a["accuracy"], abs=1e-6)
    assert b["roc_auc"] == pytest.approx(a["roc_auc"], abs=1e-5)
    assert [r["epoch"] for r in b["history"]] == [1, 2, 3]
    for r1, r2 in zip(a["history"], b["history"], strict=True):
        assert r2["train_loss"] == pytest.approx(r1["train_loss"], rel=1e-5)
    pa, pb = _params(whole), _params(killed)
    assert pa.keys() == pb.keys()
    for name in pa:
        np.testing.assert_allclose(pb[name], pa[name], rtol=1e-4, atol=1e-6, err_msg=name)
    load_bundle(killed)  # integrity checks pass


def test_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "run"
    assert _kill_during_epoch_2(out) == -signal.SIGKILL
    changed = [a if a != "3" else "4" for a in ARGS]  # --epochs 4 (and --seed 4)
    result = run_script("train_base.py", "--out", out, "--resume", *changed)
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()
    assert len(line) == 1 and line[0].startswith("error: cannot resume from"), result.stderr
    assert "epochs 3 there, 4 here" in line[0]
    assert (out / "checkpoints" / "epoch-0001" / "state.json").exists()  # nothing lost


def test_dann_sigkilled_resumes_to_the_uninterrupted_result(base_bundle, movie_slice,
                                                            amazon_slice, tmp_path):
    """transfer.py --strategy dann gets checkpoints and --resume from the one training loop."""
    args = ["--base", base_bundle, "--data", amazon_slice, "--strategy", "dann",
            "--train-size", "100", "--epochs", "4", "--patience", "9", "--source-data",
            movie_slice, "--source-rows", "800", "--no-scratch-check", "--seed", "2",
            "--quiet"]
    whole = tmp_path / "whole"
    result = run_script("transfer.py", *args, "--out", whole)
    assert result.returncode == 0, result.stderr

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "transfer.py"), *map(
        str, args), "--out", str(killed)], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not (killed / "checkpoints" / "epoch-0001" / "state.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no checkpoint appeared: {proc.communicate()[1].decode()[-2000:]}")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not (killed / "metrics.json").exists()  # it died before the end

    resumed = run_script("transfer.py", *[a for a in args if a != "--quiet"], "--out", killed,
                         "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from" in resumed.stdout
    a = json.loads((whole / "metrics.json").read_text())
    b = json.loads((killed / "metrics.json").read_text())
    assert b["accuracy"] == pytest.approx(a["accuracy"], abs=1e-6)
    assert [r["epoch"] for r in b["history"]] == [1, 2, 3, 4]
    for r1, r2 in zip(a["history"], b["history"], strict=True):
        assert r2["train_loss"] == pytest.approx(r1["train_loss"], rel=1e-5)
        assert r2["dann_loss"] == pytest.approx(r1["dann_loss"], rel=1e-4)
    pa, pb = _params(whole), _params(killed)
    for name in pa:
        np.testing.assert_allclose(pb[name], pa[name], rtol=1e-4, atol=1e-6, err_msg=name)
