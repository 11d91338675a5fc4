"""Domain adaptation from the script: DANN with no target label, CORAL with extra texts, and
--train-size 0 only with an adaptation strategy."""


def test_dann_with_no_target_label_and_coral_with_extra_texts(base_bundle, movie_slice,
                                                              amazon_slice, tmp_path):
    import json

    import pandas as pd
    from conftest import run_script

    extra = tmp_path / "more.txt"
    extra.write_text("the charger broke in a day\nworks fine with my laptop\n")
    for strategy, size, more in (("dann", "0", ["--label-shift"]),
                                 ("coral", "100", ["--unlabeled", extra])):
        result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                            "--strategy", strategy, "--train-size", size, "--epochs", "2",
                            "--source-data", movie_slice, "--source-rows", "300",
                            "--no-scratch-check", "--out", tmp_path / strategy, *more)
        assert result.returncode == 0, result.stderr
        n_texts = len(pd.read_csv(amazon_slice)) - 120  # the training part of the split
        assert f"{strategy}: 300 labelled source rows, {int(size) and 85 or 0} labelled " \
            "target rows" in result.stdout
        assert f"{n_texts + (2 if strategy == 'coral' else 0):,} target texts" in result.stdout
        metrics = json.loads((tmp_path / strategy / "metrics.json").read_text())
        assert f"{strategy}_loss" in metrics["history"][0]
        if strategy == "dann":  # priors of the rows it learnt from: the source's
            assert f"| {strategy}+priors |" in result.stdout
            assert set(metrics["label_shift"]["train_priors"]) == {"negative", "positive"}


def test_train_size_zero_needs_an_adaptation_strategy(base_bundle, amazon_slice, tmp_path):
    from conftest import run_script

    result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--strategy", "fine-tune", "--train-size", "0", "--out", tmp_path / "x")
    assert result.returncode == 2
    assert "strategy fine-tune needs labelled target rows" in result.stderr
