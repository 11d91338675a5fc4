"""The output policy in this process: save_bundle refuses a folder with other files, and
foreign entries are told from the tool's own."""
from __future__ import annotations

import pytest

from transferlearn.errors import StorageError
from transferlearn.io.outputs import foreign_entries
from transferlearn.io.storage import atomic_write


def test_save_bundle_refuses_a_folder_with_other_files(base_bundle, tmp_path):
    from transferlearn.bundle.store import load_bundle, save_bundle

    bundle = load_bundle(base_bundle)
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(StorageError, match=r"holds files .* \(mine.txt\)"):
        save_bundle(tmp_path, bundle.net, bundle.pipeline, bundle.labels)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_foreign_entries_tells_results_from_user_files(tmp_path):

    (tmp_path / "fine-tune" / "checkpoints" / "epoch-0002").mkdir(parents=True)
    for name in ("fine-tune/model.params", "fine-tune/checkpoints/epoch-0002/state.json",
                 "comparison.csv", "metrics.json"):
        with atomic_write(tmp_path / name) as handle:  # as the tool writes: recorded
            handle.write("x")
    (tmp_path / ".config.json.abc.tmp").write_text("x")  # a killed write's temp file
    assert foreign_entries(tmp_path) == []
    (tmp_path / "fine-tune" / "draft.md").write_text("mine")
    (tmp_path / "Data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "metrics.json")
    (tmp_path / "curve.csv").write_text("a user's file of one of the tool's names")
    (tmp_path / "fine-tune" / "model.params").write_text("edited since")
    assert foreign_entries(tmp_path) == ["Data/", "curve.csv", "fine-tune/draft.md",
                                         "fine-tune/model.params", "link"]
    assert foreign_entries(tmp_path, overwrite=True) == ["Data/", "fine-tune/draft.md", "link"]
