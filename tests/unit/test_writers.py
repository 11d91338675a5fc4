"""One output policy for every command that writes (:mod:`transferlearn.io.outputs`).

Every writing command runs, in process, against the same table of hostile outputs in a
user's folder: each must answer with one ``error:`` line and exit code 2, before any work,
and every file in the folder must be byte-identical afterwards. Then what the policy lets
through: the tool's own earlier results are replaced, a file the user changed is not, and
``--overwrite`` replaces only files of the tool's names."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from transferlearn.cli.main import main
from transferlearn.io.manifest import MANIFEST, recorded, written_by_tool

TINY = ["--encoder", "mean", "--embed-dim", "8", "--hidden-size", "8", "--max-len", "16",
        "--epochs", "1", "--quiet"]


def snapshot(directory: Path) -> dict:
    """Every file (and link) under `directory` with the sha256 of its bytes."""
    return {str(p.relative_to(directory)): (f"link->{p.readlink()}" if p.is_symlink() else
                                            hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(directory.rglob("*")) if p.is_file() or p.is_symlink()}


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``transferlearn ARGV`` in this process: (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error(capsys, *argv) -> str:
    code, _, err = cli(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    return lines[0]


@pytest.fixture
def home(tmp_path, movie_slice, base_bundle) -> Path:
    """A user's folder: their data, texts, notes, a bundle and a folder of their own."""
    home = tmp_path / "home"
    (home / "sub").mkdir(parents=True)
    shutil.copy(movie_slice, home / "mydata.csv")
    (home / "texts.txt").write_text("a fine film\nawful\n")
    (home / "notes.txt").write_text("my notes\n")
    shutil.copytree(base_bundle, home / "base")
    (home / "mine").mkdir()
    (home / "mine" / "metrics.json").write_text('{"my": "results"}\n')
    (home / "datalink.csv").symlink_to(home / "mydata.csv")
    return home


# command -> (argv before --out, the inputs it reads, whether it writes a directory)
def writers(home: Path) -> dict:
    data, texts, base = home / "mydata.csv", home / "texts.txt", home / "base"
    return {
        "train-base": (["train-base", "--data", data, *TINY], {"data"}, True),
        "transfer": (["transfer", "--base", base, "--data", data, "--strategy", "fine-tune",
                      "--epochs", "1", "--no-scratch-check", "--quiet"], {"data", "base"}, True),
        "pretrain": (["pretrain", "--data", data, "--epochs", "1", "--quiet"], {"data"}, True),
        "predict": (["predict", "--bundle", base, "--input", texts], {"texts", "base"}, False),
        "evaluate": (["evaluate", "--bundle", base, "--data", data], {"data", "base"}, True),
    }


# case -> (the output, the input it collides with or None, a piece of the expected message)
def hostile(home: Path) -> dict:
    return {
        "the data file": (home / "mydata.csv", "data", "is the input"),
        "the data through ..": (home / "sub" / ".." / "mydata.csv", "data", "is the input"),
        "a link to the data": (home / "datalink.csv", "data", ""),
        "the texts file": (home / "texts.txt", "texts", "is the input"),
        "the base bundle": (home / "base", "base", "is the input"),
        "inside the base bundle": (home / "base" / "out", "base", "lies inside the input"),
        "the folder of the inputs": (home, None, "contains the input"),
        "a folder with a user's metrics.json": (home / "mine", None, ""),
        "a user's file": (home / "notes.txt", None, ""),
        "stdout for a directory": ("-", None, "writes a directory"),
    }


CASES = ["the data file", "the data through ..", "a link to the data", "the texts file",
         "the base bundle", "inside the base bundle", "the folder of the inputs",
         "a folder with a user's metrics.json", "a user's file", "stdout for a directory"]


@pytest.mark.parametrize("command", ["train-base", "transfer", "pretrain", "predict",
                                     "evaluate"])
def test_every_writer_refuses_every_hostile_output_and_the_files_survive(home, capsys,
                                                                         command):
    argv, reads, directory = writers(home)[command]
    tried = 0
    for case in CASES:
        out, collides, expected = hostile(home)[case]
        if collides is not None and collides not in reads:
            continue  # not an input of this command: no collision to test
        if case == "stdout for a directory" and not directory:
            continue  # predict writes its table to stdout there (tested below)
        before = snapshot(home)
        message = one_error(capsys, *argv, "--out", out)
        assert expected in message, (case, message)
        assert snapshot(home) == before, case
        tried += 1
    assert tried >= 6


@pytest.mark.parametrize("command", ["train-base", "transfer", "evaluate", "pretrain"])
def test_a_directory_of_user_files_is_named_and_overwrite_does_not_open_it(home, capsys,
                                                                           command):
    argv, _, _ = writers(home)[command]
    (home / "mine" / "draft.md").write_text("mine")
    before = snapshot(home)
    message = one_error(capsys, *argv, "--out", home / "mine", "--overwrite")
    assert message == (f"error: --out {home / 'mine'} holds files transferlearn did not write "
                       "(draft.md); choose a new or empty directory")
    assert snapshot(home) == before


def test_a_users_metrics_json_is_replaced_only_with_overwrite(home, capsys):
    argv, _, _ = writers(home)["evaluate"]
    before = snapshot(home)
    message = one_error(capsys, *argv, "--out", home / "mine")
    assert message == (f"error: --out {home / 'mine'} holds files transferlearn did not write "
                       "(metrics.json); choose a new or empty directory, or pass "
                       "--overwrite to replace them")
    assert snapshot(home) == before
    code, out, err = cli(capsys, *argv, "--out", home / "mine", "--overwrite")
    assert code == 0, err
    assert "accuracy" in (home / "mine" / "metrics.json").read_text()
    assert set(recorded(home / "mine")) == {"metrics.json", "confusion.png"}


def test_evaluate_writes_beside_its_earlier_results_and_training_may_follow(home, capsys,
                                                                             tmp_path):
    argv, _, _ = writers(home)["evaluate"]
    out = tmp_path / "eval"
    for _ in range(2):  # the second run replaces what the first wrote
        code, _, err = cli(capsys, *argv, "--out", out)
        assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "confusion.png", "metrics.json"]
    assert all(written_by_tool(out / name) for name in ("confusion.png", "metrics.json"))
    code, _, err = cli(capsys, "train-base", "--data", home / "mydata.csv", *TINY, "--out", out)
    assert code == 0, err  # evaluate's confusion.png is the tool's: it blocks nothing


def test_a_result_the_user_edited_is_theirs(home, capsys, tmp_path):
    out = tmp_path / "base"
    argv = ["train-base", "--data", home / "mydata.csv", *TINY, "--out", out]
    assert cli(capsys, *argv)[0] == 0
    assert cli(capsys, *argv)[0] == 0  # the tool's own bundle: replaced
    with open(out / "metrics.json", "a") as handle:
        handle.write("\n")  # the user's note
    before = snapshot(tmp_path)
    message = one_error(capsys, *argv)
    assert "(metrics.json)" in message and "--overwrite" in message
    assert snapshot(tmp_path) == before
    assert cli(capsys, *argv, "--overwrite")[0] == 0


def test_predict_replaces_only_its_own_table_and_dash_is_stdout(home, capsys, tmp_path):
    argv, _, _ = writers(home)["predict"]
    labels = tmp_path / "labels.csv"
    for _ in range(2):
        code, out, err = cli(capsys, *argv, "--out", labels)
        assert code == 0 and "2 texts ->" in out, err
    assert labels.read_text().startswith("text,label,p_negative,p_positive")
    (tmp_path / "mine.csv").write_text("text\nmine\n")
    before = snapshot(tmp_path)
    message = one_error(capsys, *argv, "--out", tmp_path / "mine.csv")
    assert "exists and transferlearn did not write it" in message
    assert snapshot(tmp_path) == before
    code, out, err = cli(capsys, *argv, "--out", "-")
    assert code == 0 and out.startswith("text,label,p_negative,p_positive") and not err
    assert not Path("-").exists()


def test_figures_and_exports_follow_the_policy(tmp_path, base_bundle):
    import matplotlib.figure

    from transferlearn.bundle.store import export_model, load_bundle
    from transferlearn.errors import StorageError
    from transferlearn.io.outputs import save_figure

    mine = tmp_path / "plot.png"
    mine.write_bytes(b"my picture")
    fig = matplotlib.figure.Figure()
    with pytest.raises(StorageError, match="exists and transferlearn did not write it"):
        save_figure(fig, mine)
    assert mine.read_bytes() == b"my picture"
    save_figure(fig, tmp_path / "new.png")
    save_figure(fig, tmp_path / "new.png")  # its own: replaced
    save_figure(fig, mine, overwrite=True)
    assert mine.read_bytes().startswith(b"\x89PNG")
    (tmp_path / "model-symbol.json").write_text("{}")
    with pytest.raises(StorageError, match="model-symbol.json exists"):
        export_model(load_bundle(base_bundle).net, tmp_path / "model", 16)
    assert (tmp_path / "model-symbol.json").read_text() == "{}"


def test_pull_copies_only_over_files_the_tool_wrote(tmp_path):
    """``data pull SRC DEST``'s copy step, from a local tree standing for the download."""
    from transferlearn.cli.data import _copy
    from transferlearn.errors import StorageError

    cached = tmp_path / "cache"
    (cached / "d").mkdir(parents=True)
    (cached / "a.csv").write_text("new a\n")
    (cached / "d" / "b.csv").write_text("new b\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.csv").write_text("the user's a\n")
    with pytest.raises(StorageError, match="a.csv exists and transferlearn did not write it"):
        _copy(cached, dest)
    assert sorted(p.name for p in dest.rglob("*")) == ["a.csv"]  # nothing copied at all
    _copy(cached, dest, overwrite=True)
    _copy(cached, dest)  # now every file there is the tool's copy
    assert (dest / "d" / "b.csv").read_text() == "new b\n"
    assert (dest / "a.csv").read_text() == "new a\n"


def test_a_foreign_record_file_is_never_replaced(tmp_path):
    from transferlearn.errors import StorageError
    from transferlearn.io.storage import atomic_write

    (tmp_path / MANIFEST).write_text("someone else's\n")
    with pytest.raises(StorageError, match="not transferlearn's record|Expecting value"):
        with atomic_write(tmp_path / "x.json") as handle:
            handle.write("{}")
    assert (tmp_path / MANIFEST).read_text() == "someone else's\n"
