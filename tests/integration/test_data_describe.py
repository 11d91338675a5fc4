"""`transferlearn data describe` as a user runs it."""
import json
import subprocess
import sys

from conftest import ROOT


def test_data_describe_command(hotel_slice):
    result = subprocess.run([sys.executable, "-m", "transferlearn.data", "describe",
                             str(hotel_slice), "--json"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr
    info = json.loads(result.stdout)
    assert info["rows"] == 400 and sum(info["labels"].values()) == 400
    assert info["words_percentiles"]["p50"] > 50
    text = subprocess.run([sys.executable, "-m", "transferlearn.data", "describe",
                           "amazon_snippets"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert text.returncode == 0 and "labels   negative" in text.stdout
    bad = subprocess.run([sys.executable, "-m", "transferlearn.data", "describe", "nope.csv"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: file not found: nope.csv (bundled data sets: movie_snippets, amazon_snippets)"]
