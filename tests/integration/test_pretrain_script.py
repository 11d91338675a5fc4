"""`transferlearn pretrain` end to end as a user runs it, and a bad label map as one line."""
from conftest import run_script, toy_texts


def test_pretrain_script_end_to_end_and_its_errors(tmp_path):
    texts, _ = toy_texts(60)
    (tmp_path / "t.txt").write_text("\n".join(texts) + "\n")
    done = run_script("pretrain.py", "--data", tmp_path / "t.txt", "--embed-dim", "4",
                      "--epochs", "1", "--min-count", "1", "--out", tmp_path / "vec")
    assert done.returncode == 0, done.stderr
    assert "| vectors | 10 |" in done.stdout and "epoch   1/1" in done.stdout
    bad = run_script("train_base.py", "--init-vectors", tmp_path / "t.txt", "--out",
                     tmp_path / "base")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "is not a vectors file" in bad.stderr
    missing = run_script("pretrain.py", "--data", tmp_path / "nope.txt", "--out", tmp_path / "v2")
    assert missing.returncode == 2 and "error: file not found" in missing.stderr


def test_a_bad_label_map_is_one_error_line():
    for bad, why in (("{not json", "not JSON"), ('{"pos": 1}', "shared label")):
        done = run_script("train_base.py", "--data", "movie_snippets,amazon_snippets",
                          "--label-map", bad)
        assert done.returncode == 2 and why in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
