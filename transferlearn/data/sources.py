"""Several labelled sources as one data set: ``movie_snippets,../shared/datasets/imdb.csv.gz``.

Each source is read as :func:`~transferlearn.data.readers.load_dataset` reads one; its labels
are mapped onto one label set (``label_map``, e.g. ``{"pos": "positive", "1": "positive"}``);
a ``source`` column says where each row came from. A source with a ``split`` column (IMDB's
official train/test) keeps it; the rows of the others are split as usual
(:func:`~transferlearn.data.splits.split_train_test`).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd

from ..config import MAX_SOURCES
from ..errors import DataError
from ..io.manifest import file_sha256
from ..io.storage import is_remote, local_path
from .download import named
from .formats import detect_format
from .readers import BUNDLED, load_dataset

MAX_SOURCE_BYTES = 4 << 30  # the most a base's recorded training file may hold to be re-read


def source_list(data) -> list:
    """`data` as a list of sources: a list or tuple as is; a string with commas split on them
    (unless it names an existing file); anything else (one path, a DataFrame) alone."""
    if isinstance(data, (list, tuple)):
        return list(data)
    if isinstance(data, str) and "," in data and not Path(data).expanduser().exists():
        return [part.strip() for part in data.split(",") if part.strip()]
    return [data]


def map_labels(df: pd.DataFrame, label_map: dict | None) -> pd.DataFrame:
    """`df` with its labels as strings, each renamed by `label_map` when listed there."""
    df["label"] = df["label"].astype(str).map(lambda x: (label_map or {}).get(x, x))
    return df


def load_sources(sources: list, label_map: dict | None = None, **read) -> pd.DataFrame:
    """One ``DataFrame(text, label, source[, split])`` of several sources (``read``: the
    keyword arguments of :func:`load_dataset` for each). The label sets must agree once
    `label_map` is applied; ``attrs["sources"]`` holds ``{source: rows}``."""
    frames, label_sets = [], {}
    for source in sources:
        df = map_labels(load_dataset(source, **read), label_map)
        df["source"] = str(source)
        label_sets[str(source)] = sorted(df["label"].unique())
        frames.append(df)
    if len({tuple(v) for v in label_sets.values()}) > 1:
        sets = "; ".join(f"{s}: {', '.join(v)}" for s, v in label_sets.items())
        raise DataError(f"the sources have different labels ({sets}); map them onto one set "
                        f"with --label-map, e.g. '{{\"pos\": \"positive\"}}'")
    out = pd.concat(frames, ignore_index=True)
    if "split" in out.columns:
        out["split"] = out["split"].where(out["split"].notna(), None)
    out.attrs["sources"] = {str(s): len(f) for s, f in zip(sources, frames, strict=True)}
    for frame in frames:  # categories of categorical columns: the union
        for column, values in frame.attrs.get("categories", {}).items():
            known = out.attrs.setdefault("categories", {}).setdefault(column, [])
            known += [v for v in values if v not in known]
    return out


def source_digests(data) -> list[dict]:
    """``[{"source", "bytes", "sha256"}]``: what each source of `data` held when read, so a
    later run re-reads a base's training rows only if they are still those
    (:func:`checked_source`). Bundled names are the package's own files."""
    found = []
    for part in source_list(data):
        if str(part) in BUNDLED:
            continue
        path = local_path(named(part), quiet=True)
        found.append({"source": str(part), **_digest(path)})
    return found


def _digest(path: Path) -> dict:
    """Bytes and sha256 of a file, or of a tree (its files' names and digests, in order)."""
    if not path.is_dir():
        return {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    import hashlib

    digest, size = hashlib.sha256(), 0
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    for file in files:
        size += file.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise DataError(f"{path}: over {MAX_SOURCE_BYTES:,} bytes of files; too large to "
                            "be a base's training data")
        digest.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n".encode())
    return {"bytes": size, "sha256": digest.hexdigest()}


def checked_source(part: str, recorded: list | None) -> str:
    """`part`, a source a bundle says its base was trained on, if it still holds what the
    bundle recorded: a regular file (or directory tree) of the recorded size and sha256,
    under :data:`MAX_SOURCE_BYTES`. Anything else is refused, so a bundle cannot point a
    run at a device, a pipe or another file of the user's."""
    if part in BUNDLED:
        return part
    hint = "; give the source rows with --source-data"
    where = named(part)  # a downloaded data set's name: its file
    if not is_remote(part):
        path = Path(where).expanduser()
        try:
            info = os.stat(path)
        except OSError:
            raise DataError(f"the base's training data {part} is not there{hint}") from None
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            raise DataError(f"the base's training data {part} is not a regular file{hint}")
        if stat.S_ISDIR(info.st_mode):
            detect_format(path)  # only an aclImdb tree is read as a directory: else one line
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_SOURCE_BYTES:
            raise DataError(f"the base's training data {part} holds {info.st_size:,} bytes, "
                            f"over the {MAX_SOURCE_BYTES:,} a source may{hint}")
    entry = next((r for r in recorded or () if isinstance(r, dict) and r.get("source") == part),
                 None)
    if entry is None:
        raise DataError(f"the base bundle does not record what its training data {part} "
                        f"held, so it is not read{hint}")
    if not is_remote(part) and stat.S_ISREG(info.st_mode) and info.st_size != entry.get("bytes"):
        raise DataError(f"the base's training data {part} changed since the base was "
                        f"trained (size){hint}")
    if _digest(local_path(where, quiet=True)) != {k: entry.get(k) for k in ("bytes", "sha256")}:
        raise DataError(f"the base's training data {part} changed since the base was "
                        f"trained (sha256){hint}")
    return part


__all__ = ["MAX_SOURCES", "MAX_SOURCE_BYTES", "checked_source", "load_sources", "map_labels",
           "source_digests", "source_list"]
