"""`auto` from the script: its table and its pick."""
import json


def test_auto_in_the_script_prints_its_table_and_pick(base_bundle, amazon_slice, tmp_path):
    from conftest import run_script

    result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--strategy", "auto", "--train-size", "120", "--epochs", "2",
                        "--no-scratch-check", "--out", tmp_path / "a")
    assert result.returncode == 0, result.stderr
    assert "cross-validation (3 folds on the labelled rows" in result.stdout
    assert "picked " in result.stdout and "| auto | 120 |" in result.stdout
    metrics = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert metrics["cv"]["picked"] == metrics["picked"]
    assert {r["candidate"] for r in metrics["cv"]["table"]} == {
        "scratch", "fine-tune", "tfidf-logreg", "ensemble", "prior", "blend"}
