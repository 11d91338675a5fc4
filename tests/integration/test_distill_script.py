"""Knowledge distillation from the script: the teacher and student in the report."""
import json

from conftest import run_script


def test_distill_strategy_reports_teacher_and_student(base_bundle, amazon_slice, tmp_path):
    result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--strategy", "distill", "--target-embed-dim", "8",
                        "--target-hidden-size", "8", "--train-size", "150", "--epochs", "2",
                        "--no-scratch-check", "--out", tmp_path / "s")
    assert result.returncode == 0, result.stderr
    assert "distillation: teacher" in result.stdout
    report = json.loads((tmp_path / "s" / "metrics.json").read_text())["distill"]
    assert report["student_params"] < report["teacher_params"]
    assert report["student_infer_per_s"] > 0 and 0 <= report["teacher_accuracy"] <= 1
