"""Nothing lost: a run never deletes or overwrites what the tool did not write.

The user's files are compared byte for byte before and after; mount points and full disks
are real (a tmpfs in a private mount namespace made with ``unshare``)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_script

from transferlearn.io.outputs import output_lock
from transferlearn.io.storage import atomic_write

TINY = ["--encoder", "mean", "--embed-dim", "8", "--hidden-size", "8", "--max-len", "16",
        "--epochs", "1", "--quiet"]
TRANSFER = ["--strategy", "fine-tune", "--epochs", "1", "--no-scratch-check", "--quiet"]


def snapshot(directory: Path) -> dict:
    """Every file under `directory` with the sha256 of its bytes."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def one_error(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def project(tmp_path, movie_slice):
    """A user's folder: their data file and their notes."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(movie_slice, proj / "mydata.csv")
    (proj / "notes.txt").write_text("my notes\n")
    return proj


def test_out_holding_the_users_files_is_refused_and_they_survive(project, movie_slice):
    before = snapshot(project)
    result = run_script("train_base.py", "--data", movie_slice, "--out", project, *TINY)
    assert one_error(result) == (f"error: --out {project} holds files transferlearn did not "
                                 "write (mydata.csv, notes.txt); choose a new or empty "
                                 "directory")
    assert snapshot(project) == before


def test_out_that_contains_the_data_is_refused(project):
    before = snapshot(project)
    data = project / "mydata.csv"
    result = run_script("train_base.py", "--data", data, "--out", project, *TINY)
    assert one_error(result) == (f"error: --out {project} contains the input {data}; write "
                                 "the results to a new directory")
    assert snapshot(project) == before


def test_transfer_into_the_folder_of_its_base_and_data_is_refused(project, base_bundle):
    shutil.copytree(base_bundle, project / "base")
    before = snapshot(project)
    for out in (project, project / "base", project / "base" / "hotel"):
        result = run_script("transfer.py", "--base", project / "base", "--data",
                            project / "mydata.csv", "--out", out, *TRANSFER)
        message = one_error(result)
        assert "input" in message and f"--out {out} " in message
    assert snapshot(project) == before


def test_out_linked_to_the_base_is_the_base(base_bundle, movie_slice, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(base_bundle, base)
    (tmp_path / "link").symlink_to(base)
    before = snapshot(base)
    result = run_script("transfer.py", "--base", base, "--data", movie_slice, "--out",
                        tmp_path / "link", *TRANSFER)
    assert one_error(result) == (f"error: --out {tmp_path / 'link'} is the input {base} "
                                 "itself; write the results elsewhere")
    assert snapshot(base) == before


def test_an_earlier_bundle_and_its_checkpoints_are_replaced(movie_slice, tmp_path):
    out = tmp_path / "base"
    assert run_script("train_base.py", "--data", movie_slice, "--out", out, *TINY).returncode == 0
    first = json.loads((out / "config.json").read_text())["created"]
    (out / "checkpoints" / "epoch-0003").mkdir(parents=True)  # as a killed longer run leaves
    with atomic_write(out / "checkpoints" / "epoch-0003" / "state.json") as handle:
        handle.write("{}")  # written by the tool, as a killed longer run leaves it
    again = run_script("train_base.py", "--data", movie_slice, "--out", out, "--seed", "1",
                       *TINY)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.iterdir()) == [".transferlearn.json", "config.json",
                                                     "history.png", "metrics.json",
                                                     "model.params", "vocab.json"]
    assert json.loads((out / "config.json").read_text())["training"]["seed"] == 1
    assert first  # the first bundle was complete before it was replaced


def test_out_dot_writes_inside_the_current_directory(movie_slice, tmp_path):
    here = tmp_path / "here"
    here.mkdir()
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_base.py"), "--data",
                             str(movie_slice), "--out", ".", *TINY], cwd=here,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in here.iterdir()) == [".transferlearn.json", "config.json",
                                                      "history.png", "metrics.json",
                                                      "model.params", "vocab.json"]


def test_a_symlinked_out_shares_the_lock_of_its_target(movie_slice, tmp_path):
    real = tmp_path / "real"
    (tmp_path / "alias").symlink_to(real, target_is_directory=True)
    with output_lock(real):
        result = run_script("train_base.py", "--data", movie_slice, "--out",
                            tmp_path / "alias", *TINY)
    assert one_error(result) == (f"error: another run is writing to {tmp_path / 'alias'}; "
                                 "wait for it to finish or choose another output")
    assert not real.exists()  # the lock holder made it and removed it again, still empty


def in_tmpfs(mount: Path, size_kb: int, *args) -> subprocess.CompletedProcess:
    """Run train_base.py with a fresh tmpfs of `size_kb` KiB mounted at `mount`, in a private
    mount namespace (``unshare``: no root needed, nothing left mounted afterwards)."""
    mount.mkdir(exist_ok=True)
    command = (f"mount -t tmpfs -o size={size_kb}k tmpfs {mount} && "
               f"{sys.executable} {ROOT / 'scripts' / 'train_base.py'} \"$@\"; rc=$?; "
               f"cp -a {mount}/. {mount}.copy 2>/dev/null; exit $rc")
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           command, "sh", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "OMP_NUM_THREADS": "2"})


def test_out_at_a_mount_point_and_a_disk_that_fills(movie_slice, tmp_path):
    mount = tmp_path / "volume"
    ok = in_tmpfs(mount, 4096, "--data", movie_slice, "--out", mount, *TINY)
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in Path(f"{mount}.copy").iterdir()) == [
        ".transferlearn.json", "config.json", "history.png", "metrics.json", "model.params",
        "vocab.json"]
    params = (Path(f"{mount}.copy") / "model.params").stat().st_size
    # A checkpoint is about 3 parameter files (weights, Adam's two moments): room for the
    # first epoch's, not for the second's beside it.
    shutil.rmtree(f"{mount}.copy")
    full = in_tmpfs(mount, (5 * params) // 1024, "--data", movie_slice, "--out",
                    mount / "run", *TINY[:-3], "--epochs", "3", "--patience", "5", "--quiet")
    message = one_error(full)
    assert "No space left on device" in message
    assert message.endswith("the previous checkpoint epoch-0001 is intact")
    kept = Path(f"{mount}.copy") / "run" / "checkpoints"
    assert sorted(p.name for p in kept.iterdir()) == ["epoch-0001"]
    state = json.loads((kept / "epoch-0001" / "state.json").read_text())
    for name, digest in state["sha256"].items():
        assert hashlib.sha256((kept / "epoch-0001" / name).read_bytes()).hexdigest() == digest
