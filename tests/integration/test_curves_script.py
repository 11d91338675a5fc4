"""Learning curves from the script (with the scratch check), and plotting in a new process
leaves the user's matplotlib backend alone."""
import pandas as pd
from conftest import ROOT, run_script


def test_transfer_script_curve_and_scratch_check(base_bundle, amazon_slice, tmp_path):
    result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--curve", "50,all", "--repeats", "1", "--strategy", "fine-tune",
                        "--baselines", "none", "--epochs", "1", "--out", tmp_path / "c")
    assert result.returncode == 0, result.stderr
    curve = pd.read_csv(tmp_path / "c" / "curve.csv")
    assert curve.strategy.tolist() == ["source-only", "fine-tune", "fine-tune"]
    assert curve.n_train.tolist() == [0, 50, 480]
    assert (tmp_path / "c" / "curve.png").exists()
    single = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--train-size", "100", "--epochs", "1", "--out", tmp_path / "ft")
    assert single.returncode == 0, single.stderr
    assert "to check for negative transfer" in single.stdout
    assert "| vs_scratch |" in single.stdout and "| scratch | 100 |" in single.stdout
    assert "tfidf-logreg" not in single.stdout  # one strategy: no baseline unless asked
    # a short settings line: what differs from the defaults
    line = next(x for x in single.stdout.splitlines() if x.startswith("transfer: "))
    assert "train_size=100" in line and "body_lr_mult" not in line
    asked = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                       "--train-size", "100", "--epochs", "1", "--no-scratch-check",
                       "--baselines", "tfidf-logreg", "--out", tmp_path / "ft2")
    assert asked.returncode == 0, asked.stderr
    assert "| tfidf-logreg | 100 |" in asked.stdout and "| fine-tune | 100 |" in asked.stdout
    bad = run_script("transfer.py", "--base", base_bundle, "--curve", "10,x", "--out",
                     tmp_path / "bad")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: curve sizes: 'x' is not a number or 'all'"


def test_plotting_leaves_the_users_matplotlib_backend_alone(tmp_path):
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('svg'); import numpy as np\n"
            "from conftest import synthetic_curve\n"
            "from transferlearn.experiments.curves import plot_curve\n"
            "from transferlearn.experiments.embeddings import plot_domains\n"
            f"plot_curve(synthetic_curve(), {str(tmp_path / 'c.png')!r})\n"
            "r = np.random.RandomState(0).normal(size=(40, 3))\n"
            "plot_domains({'p': (r[:20], [0, 1] * 10, r[20:], [0, 1] * 10)}, "
            f"{str(tmp_path / 't.png')!r}, verbose=False)\n"
            "print(matplotlib.get_backend())\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT / "tests", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "svg"
    assert (tmp_path / "c.png").stat().st_size > 1000 and (tmp_path / "t.png").exists()
