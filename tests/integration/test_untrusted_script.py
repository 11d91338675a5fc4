"""A hostile base bundle given to the script: one line, no traceback."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from conftest import run_script

from transferlearn.bundle.schema import config_digest


def reseal(bundle: Path, config: dict) -> None:
    """Record the current digests, so that validation, not integrity, is what is tested."""
    config["sha256"] = {name: hashlib.sha256((bundle / name).read_bytes()).hexdigest()
                        for name in ("model.params", "vocab.json")}
    config["config_sha256"] = config_digest(config)
    (bundle / "config.json").write_text(json.dumps(config))


def edit(bundle: Path, change) -> None:
    config = json.loads((bundle / "config.json").read_text())
    change(config)
    reseal(bundle, config)


def test_the_script_says_one_line_for_a_hostile_base(base_bundle, movie_slice, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(base_bundle, bundle)
    edit(bundle, lambda c: c["model"].update(vocab_size=-3))
    result = run_script("transfer.py", "--base", bundle, "--data", movie_slice, "--out",
                        tmp_path / "out", "--epochs", "1", "--quiet")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {bundle}/config.json: vocab_size must be an integer in [2, 5,000,000], got -3"]
