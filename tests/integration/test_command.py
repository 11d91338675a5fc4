"""The ``transferlearn`` command as a user runs it: its subcommands, a closed pipe, predict
and evaluate."""
import json
import subprocess
import sys

import pandas as pd
from conftest import ROOT


def cli(*args, stdin=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "transferlearn", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          input=stdin)


def test_the_command_lists_its_subcommands_and_refuses_unknown_ones():
    from transferlearn.cli.main import COMMANDS

    result = cli("--help")
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"  {name}" in result.stdout
    bad = cli("trian-base")
    assert bad.returncode == 2 and bad.stderr.startswith(
        "error: unknown subcommand 'trian-base' (did you mean 'train-base'?)")
    assert cli("--version").stdout.startswith("transferlearn ")
    assert "usage: transferlearn transfer" in cli("transfer", "--help").stdout
    for name in ("data", "launch"):  # every usage line as the user types it
        assert cli(name, "--help").stdout.startswith(f"usage: transferlearn {name} ")


def test_a_closed_pipe_ends_quietly_as_unix_tools_do():
    for args in (["--help"], ["data", "--help"], ["transfer", "--help"]):
        proc = subprocess.Popen([sys.executable, "-m", "transferlearn", *args], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # the reader is gone before the first line: `| head -0`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0 and err == "", (args, err)


def test_predict_writes_labels_and_probabilities(base_bundle, tmp_path):
    from transferlearn import load_bundle

    texts = ["a wonderful, moving film", "dull and far too long", "", "plain"]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    result = cli("predict", "--bundle", base_bundle, "--input", tmp_path / "in.txt",
                 "--out", tmp_path / "labels.csv")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "labels.csv", keep_default_na=False)
    bundle = load_bundle(base_bundle)
    kept = [t for t in texts if t.strip()]  # blank lines are no texts
    assert table["text"].tolist() == kept
    proba = bundle.predict_proba(kept)
    assert table["label"].tolist() == bundle.predict(kept)
    for j, label in enumerate(bundle.labels):
        assert table[f"p_{label}"].tolist() == [round(float(p), 6) for p in proba[:, j]]
    piped = cli("predict", "--bundle", base_bundle, "--input", "-", stdin="\n".join(kept))
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout.splitlines()[0] == "text,label," + ",".join(
        f"p_{label}" for label in bundle.labels)
    assert len(piped.stdout.splitlines()) == 1 + len(kept)


def test_evaluate_reports_per_class_scores_confusion_and_worst(base_bundle, movie_slice,
                                                               tmp_path):
    result = cli("evaluate", "--bundle", base_bundle, "--data", movie_slice, "--out",
                 tmp_path / "eval", "--worst", 3)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["n"] == 800 and len(metrics["worst"]) == 3
    confusion = metrics["confusion"]
    assert sum(map(sum, confusion)) == 800
    assert metrics["accuracy"] == (confusion[0][0] + confusion[1][1]) / 800
    assert set(metrics["per_class"]) == {"negative", "positive"}
    worst = [w["p_true"] for w in metrics["worst"]]
    assert worst == sorted(worst) and worst[0] < 0.5
    assert (tmp_path / "eval" / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "| negative |" in result.stdout and "worst scored:" in result.stdout
    bad = cli("evaluate", "--bundle", base_bundle, "--data", tmp_path / "missing.csv")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")
