"""The package installs from a wheel: the bundled data, the subpackages and the
``transferlearn`` command come with it, and the default run works outside the source tree."""
import json
import os
import subprocess
import sys
import zipfile

from conftest import ROOT


def test_the_wheel_installs_and_its_default_run_works(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(wheels), str(ROOT)], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("transferlearn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "transferlearn/data/bundled/movieReviewSnippets_GroundTruth.txt" in names
    assert "transferlearn/training/loop.py" in names and "transferlearn/cli/main.py" in names
    assert any(n.endswith("dist-info/licenses/LICENSE") for n in names)

    site = tmp_path / "site"  # the wheel alone; its dependencies come from this interpreter
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                              "--target", str(site), str(wheel)], capture_output=True,
                             text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    assert (site / "bin" / "transferlearn").exists()  # the console entry point
    elsewhere = tmp_path / "elsewhere"  # not the source tree: only the wheel can be imported
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "2"}
    where = subprocess.run([sys.executable, "-c", "import transferlearn; "
                            "print(transferlearn.__file__)"], capture_output=True, text=True,
                           cwd=elsewhere, env=env, timeout=120)
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr
    run = subprocess.run([sys.executable, "-m", "transferlearn", "train-base", "--epochs",
                          "1", "--encoder", "mean", "--embed-dim", "16", "--hidden-size",
                          "16", "--out", "base", "--quiet"], capture_output=True, text=True,
                         cwd=elsewhere, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    metrics = json.loads((elsewhere / "base" / "metrics.json").read_text())
    assert metrics["data"] == "movie_snippets" and metrics["n_test"] > 2000
