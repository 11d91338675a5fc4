"""The layers hold at run time: the folders imported bottom up pull in nothing above them,
the command starts without MXNet, and version 1's names run as modules."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import LAYERS


def test_version_1_names_run_as_modules():
    result = subprocess.run([sys.executable, "-m", "transferlearn.launch", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage: transferlearn launch" in result.stdout  # the old name runs the command


def test_folders_import_in_layer_order_and_the_command_starts_without_mxnet():
    """At run time too: importing the folders from the bottom up, none pulls in a folder
    above it; and the package root, the command's entry and its flag checks import no MXNet
    (``transferlearn --help`` answers in a fraction of a second)."""
    folders = sorted((f for f in LAYERS if f), key=LAYERS.get)
    code = f"""
import importlib, json, sys
report = {{}}
for folder in {folders!r}:
    importlib.import_module("transferlearn." + folder)
    report[folder] = sorted({{m.split(".")[1] for m in sys.modules
                             if m.startswith("transferlearn.") and m.split(".")[1] in {folders!r}}})
print(json.dumps(report))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    for folder, loaded in json.loads(result.stdout).items():
        assert max(LAYERS[f] for f in loaded) == LAYERS[folder], (folder, loaded)
    command = subprocess.run([sys.executable, "-c", "import sys, transferlearn.cli.main, "
                              "transferlearn.cli.train_base; print('mxnet' in sys.modules)"],
                             capture_output=True, text=True, timeout=120)
    assert command.stdout.strip() == "False", command.stderr
