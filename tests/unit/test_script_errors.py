"""The scripts' bad input in this process: one ``error:`` line and exit code 2 before any
work."""
import pytest

SMALL = ["--encoder", "mean", "--embed-dim", "16", "--hidden-size", "16", "--max-len", "24",
         "--epochs", "2"]


def _one_line_error(result, pattern):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert pattern in lines[0], lines[0]


@pytest.mark.parametrize("content,pattern", [
    (None, "file not found"),
    ("words,label\nfine,pos\nbad,neg\n", "cannot tell which column holds the text; "
                                         "columns found: words, label"),
    ("text,label\n" + "good,pos\n" * 20, "only the label 'pos'"),
    ("text,label\n" + ",pos\n,neg\n" * 10, "every text is empty"),
    ("", "the file is empty"),
])
def test_train_base_bad_input(tmp_path, content, pattern, script_here):
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_text(content)
    result = script_here("train_base.py", "--data", path, "--out", tmp_path / "o", *SMALL)
    _one_line_error(result, pattern)
    assert not (tmp_path / "o").exists()


def test_transfer_bad_input(base_bundle, amazon_slice, tmp_path, script_here):
    _one_line_error(script_here("transfer.py", "--base", tmp_path / "none", "--out",
                                tmp_path / "o"), "model bundle not found")
    _one_line_error(script_here("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                                "--text-col", "body", "--out", tmp_path / "o"),
                    "no text column 'body'")
    _one_line_error(script_here("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                                "--train-size", "100000", "--out", tmp_path / "o"),
                    "larger than the 480 training rows")
    bad = script_here("transfer.py", "--strategy", "magic")
    assert bad.returncode == 2 and "unknown strategy 'magic'" in bad.stderr
