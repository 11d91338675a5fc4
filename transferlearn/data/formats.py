"""File formats: VADER snippet files, CSV/TSV/Parquet tables (compressed or not, the
separator and encoding checked), and the Stanford ``aclImdb`` tree or archive."""
from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError


def read_snippets(path: str | os.PathLike, neutral_band: float = 0.0) -> pd.DataFrame:
    """Read a VADER ground-truth file (``id<TAB>score<TAB>text``) into text/label/score.

    The text contains quote characters, so each line is split on its first two tabs instead
    of going through ``pandas.read_csv`` (whose default quoting merges rows: 3,546 instead of
    3,708 Amazon rows).

    Examples
    --------
    >>> df = read_snippets(DATA_DIR / BUNDLED["amazon_snippets"])  # doctest: +SKIP
    >>> df.columns.tolist()  # doctest: +SKIP
    ['text', 'label', 'score']
    """
    rows = []
    with open(path, encoding="utf-8", newline="") as handle:
        for line_no, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            parts = line.split("\t", 2)
            if len(parts) != 3:
                raise DataError(f"{path}:{line_no}: expected 'id<TAB>score<TAB>text'")
            try:
                score = float(parts[1])
            except ValueError:
                raise DataError(f"{path}:{line_no}: score {parts[1]!r} is not a number") from None
            rows.append((parts[2], score))
    df = pd.DataFrame(rows, columns=["text", "score"])
    kept = df[df["score"].abs() > neutral_band].reset_index(drop=True)
    if kept.empty:
        raise DataError(f"{path}: no rows left after dropping the {len(df):,} with "
                        f"|score| <= {neutral_band} (--neutral-band)")
    df = kept
    df.insert(1, "label", np.where(df["score"] > 0, "positive", "negative"))
    return df


TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq")


_COMPRESSION = (".gz", ".bz2", ".zip", ".xz", ".zst")


_ACLIMDB_FILE = re.compile(r"(?:^|/)(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


SNIPPET_LINE = re.compile(r"^[^\t]+\t[-+]?\d+(?:\.\d+)?\t")


HTML_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def path_suffixes(path: Path) -> list[str]:
    return [s.lower() for s in path.suffixes if s.lower() not in _COMPRESSION]


# Compression told by the file's first bytes, whatever its name says.
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"),
          (b"PK\x03\x04", "zip"), (b"\x28\xb5\x2f\xfd", "zstd"))


def compression(path: Path) -> str | None:
    """``gzip``, ``bz2``, ``xz``, ``zip``, ``zstd`` (pandas' names) or None, by content."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
    except OSError:
        return None
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def open_text(path: Path, binary: bool = False):
    """Open a file, compressed or not: bytes, or text decoded as UTF-8 with replacement.

    Decompression uses pandas' own handling, so a table is read the same way here (for its
    header line) and in :func:`read_table`.
    """
    from pandas.io.common import get_handle

    mode = "rb" if binary else "r"
    kind = compression(path)
    try:
        handles = get_handle(path, mode, compression=kind, is_text=not binary,
                             encoding=None if binary else "utf-8", errors="replace")
    except ImportError:
        raise DataError(f"{path}: {kind}-compressed; reading it needs the zstandard package "
                        "(pip install zstandard), or decompress it first") from None
    except (ValueError, OSError) as exc:  # e.g. a zip archive holding several files
        raise DataError(f"{path}: cannot open ({str(exc).strip()[:200]})") from None
    return _Closing(handles)


class _Closing:
    """pandas' handle bundle as a context manager that yields its reader."""

    def __init__(self, handles):
        self.handles = handles

    def __enter__(self):
        return self.handles.handle

    def __exit__(self, *exc):
        self.handles.close()


def first_line(path: Path) -> str:
    try:
        with open_text(path) as handle:
            return handle.readline(65536)
    except (OSError, EOFError):
        return ""


def _separator(path: Path, header: str) -> str:
    """The delimiter the header line uses most (tab, comma, semicolon, pipe)."""
    counts = {sep: header.count(sep) for sep in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best]:
        return best
    found = path_suffixes(path)
    return "\t" if found and found[-1] in (".tsv", ".tab", ".txt") else ","


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV/TSV (delimiter detected from the header; optionally compressed) or a Parquet
    file, with every column as text."""
    path = Path(path)
    if path_suffixes(path)[-1:] in ([".parquet"], [".pq"]):
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for damaged files
            raise DataError(f"{path}: cannot read as Parquet ({str(exc).strip()[:200]})") from None
        return df.astype("string").astype(object).where(df.notna(), None)
    sep = _separator(path, first_line(path))
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=True,
                         compression=compression(path))
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse as a table ({str(exc).strip()})") from None
    except UnicodeDecodeError:
        raise DataError(not_utf8(path)) from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if not isinstance(df.index, pd.RangeIndex):  # pandas made the extra fields an index
        raise DataError(_extra_fields(path, sep, len(df.columns)))
    return df


def _extra_fields(path: Path, sep: str, width: int) -> str:
    """Name the first row with more fields than the header (pandas would silently take the
    surplus as an index column, cutting texts that hold an unquoted separator)."""
    import csv

    with open_text(path) as handle:
        for line_no, row in enumerate(csv.reader(handle, delimiter=sep), start=1):
            if len(row) > width:
                return (f"{path}: row {line_no} (the header is row 1) has {len(row)} fields, "
                        f"the header {width}; quote texts that contain {sep!r}")
    return f"{path}: some rows have more fields than the header's {width}"


def not_utf8(path: Path) -> str:
    """Name the first line that is not UTF-8 (pandas reports a byte offset within a chunk)."""
    with open_text(path, binary=True) as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return (f"{path}: line {line_no} is not UTF-8 ({exc.reason} at column "
                        f"{exc.start + 1}); convert the file, e.g. iconv -f latin1 -t utf-8")
    return f"{path}: not UTF-8 text"


def _aclimdb_root(path: Path) -> Path | None:
    for root in (path, path / "aclImdb"):
        if any((root / split / label).is_dir() for split in ("train", "test")
               for label in ("pos", "neg")):
            return root
    return None


def _aclimdb_frame(rows: list, origin) -> pd.DataFrame:
    if not rows:
        raise DataError(f"{origin}: no reviews found (expected {{train,test}}/{{pos,neg}}/"
                        "<id>_<rating>.txt files, as in aclImdb_v1.tar.gz)")
    df = pd.DataFrame(rows, columns=["split", "label", "id", "rating", "text"])
    df = df.sort_values(["split", "label", "id"], ascending=[False, True, True])
    df["file"] = (df["split"] + "/" + df["label"] + "/" + df["id"].astype(str) + "_"
                  + df["rating"].astype(str) + ".txt")  # its path in the archive
    df["label"] = df["label"].map({"pos": "positive", "neg": "negative"})
    return df[["text", "label", "split", "rating", "file"]].reset_index(drop=True)


def read_aclimdb(path: str | os.PathLike) -> pd.DataFrame:
    """Read the Stanford Large Movie Review Dataset (a directory or ``aclImdb_v1.tar.gz``).

    Returns ``text``, ``label`` (``positive``/``negative``), ``split`` (``train``/``test``,
    the official split), ``rating`` (1-10, from the file name) and ``file`` (the review's
    path under ``aclImdb/``, e.g. ``train/pos/0_9.txt``). Unlabelled ``unsup``
    reviews are skipped.
    """
    path = Path(path)
    rows = []
    if path.is_dir():
        root = _aclimdb_root(path)
        if root is None:
            raise DataError(f"{path}: a directory, but not an aclImdb tree (expected "
                            "train/pos, train/neg, test/pos, test/neg with *.txt files)")
        for file in sorted(root.glob("*/*/*.txt")):
            m = _ACLIMDB_FILE.search(file.relative_to(root).as_posix())
            if m:
                rows.append((*m.group(1, 2), int(m.group(3)), int(m.group(4)),
                             _read_review(file.read_bytes(), file)))
        return _aclimdb_frame(rows, path)
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                m = _ACLIMDB_FILE.search(member.name)
                if m and member.isfile():
                    handle = archive.extractfile(member)
                    data = handle.read() if handle is not None else b""
                    rows.append((*m.group(1, 2), int(m.group(3)), int(m.group(4)),
                                 _read_review(data, f"{path}:{member.name}")))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{path}: cannot read the archive ({exc})") from None
    return _aclimdb_frame(rows, path)


def _read_review(data: bytes, origin) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{origin}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def detect_format(path: str | os.PathLike) -> str:
    """``aclimdb`` (tree or archive), ``snippets`` (id/score/text lines) or ``table``."""
    path = Path(path)
    if path.is_dir():
        if _aclimdb_root(path) is not None:
            return "aclimdb"
        raise DataError(f"{path}: a directory, but not an aclImdb tree (expected "
                        "train/pos, train/neg, test/pos, test/neg with *.txt files)")
    name = path.name.lower()
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        return "aclimdb"
    found = path_suffixes(path)
    if found and found[-1] in (".parquet", ".pq"):
        return "table"
    if name.endswith("_groundtruth.txt") or SNIPPET_LINE.match(first_line(path)):
        return "snippets"
    if found and found[-1] not in TABLE_SUFFIXES:
        raise DataError(f"{path}: unknown data format '{found[-1]}' (expected CSV, TSV, "
                        "Parquet, an aclImdb directory or .tar.gz, or id<TAB>score<TAB>text)")
    return "table"
