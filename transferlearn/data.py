"""Data sets as ``DataFrame(text, label[, split])``: the bundled snippets or any CSV/TSV.

The bundled data (``data/`` in the project) are two sentence-level sentiment corpora from the
VADER release (Hutto & Gilbert 2014, MIT licence): movie review snippets (the source domain,
10,605 rows) and Amazon product review snippets (the target domain, 3,708 rows). Each row has
the mean of 20 human ratings on -4..+4; we label ``score > 0`` as ``positive`` and ``score < 0``
as ``negative``. Rows with ``|score| <= neutral_band`` have no clear polarity and are dropped;
the default band 0.0 drops only exact zeros (37 movie rows, 98 Amazon rows). Widen it (for
example to 0.5) to drop the near-neutral sentences whose label is mostly rater noise.

Other sources, local or ``s3://`` (see :func:`load_dataset`): the Stanford IMDB ``aclImdb``
tree or its ``aclImdb_v1.tar.gz`` archive; any CSV/TSV/Parquet table (gzip or not) such as the
Kaggle IMDB CSVs, the blog's hotel reviews (``Description``/``Is_Response``) or the Deceptive
Opinion Spam corpus (``text``/``polarity``/``deceptive``); and VADER-style snippet files.
HTML line breaks (``<br />``, frequent in IMDB reviews) become spaces in every source.

``python -m transferlearn.data describe|push|pull`` checks and stages data sets.
"""
from __future__ import annotations

import os
import re
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError, StorageError
from .storage import is_remote, local_path
from .text import category_token

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

BUNDLED = {
    "movie_snippets": "movieReviewSnippets_GroundTruth.txt",
    "amazon_snippets": "amazonReviewSnippets_GroundTruth.txt",
}
DEFAULT_SOURCE = "movie_snippets"
DEFAULT_TARGET = "amazon_snippets"

TEXT_COLUMNS = ("text", "review", "description", "sentence", "content", "comment")
LABEL_COLUMNS = ("label", "sentiment", "polarity", "is_response", "target", "class")


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
_SNIPPET_LINE = re.compile(r"^[^\t]+\t[-+]?\d+(?:\.\d+)?\t")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _suffixes(path: Path) -> list[str]:
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


def _open(path: Path, binary: bool = False):
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


def _first_line(path: Path) -> str:
    try:
        with _open(path) as handle:
            return handle.readline(65536)
    except (OSError, EOFError):
        return ""


def _separator(path: Path, header: str) -> str:
    """The delimiter the header line uses most (tab, comma, semicolon, pipe)."""
    counts = {sep: header.count(sep) for sep in ("\t", ",", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    if counts[best]:
        return best
    suffixes = _suffixes(path)
    return "\t" if suffixes and suffixes[-1] in (".tsv", ".tab", ".txt") else ","


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV/TSV (delimiter detected from the header; optionally compressed) or a Parquet
    file, with every column as text."""
    path = Path(path)
    if _suffixes(path)[-1:] in ([".parquet"], [".pq"]):
        try:
            df = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for damaged files
            raise DataError(f"{path}: cannot read as Parquet ({str(exc).strip()[:200]})") from None
        return df.astype("string").astype(object).where(df.notna(), None)
    try:
        return pd.read_csv(path, sep=_separator(path, _first_line(path)), dtype=str,
                           keep_default_na=True, compression=compression(path))
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse as a table ({str(exc).strip()})") from None
    except UnicodeDecodeError:
        raise DataError(_not_utf8(path)) from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None


def _not_utf8(path: Path) -> str:
    """Name the first line that is not UTF-8 (pandas reports a byte offset within a chunk)."""
    with _open(path, binary=True) as handle:
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
    df["label"] = df["label"].map({"pos": "positive", "neg": "negative"})
    return df[["text", "label", "split", "rating"]].reset_index(drop=True)


def read_aclimdb(path: str | os.PathLike) -> pd.DataFrame:
    """Read the Stanford Large Movie Review Dataset (a directory or ``aclImdb_v1.tar.gz``).

    Returns ``text``, ``label`` (``positive``/``negative``), ``split`` (``train``/``test``,
    the official split) and ``rating`` (1-10, from the file name). Unlabelled ``unsup``
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
    suffixes = _suffixes(path)
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "table"
    if name.endswith("_groundtruth.txt") or _SNIPPET_LINE.match(_first_line(path)):
        return "snippets"
    if suffixes and suffixes[-1] not in TABLE_SUFFIXES:
        raise DataError(f"{path}: unknown data format '{suffixes[-1]}' (expected CSV, TSV, "
                        "Parquet, an aclImdb directory or .tar.gz, or id<TAB>score<TAB>text)")
    return "table"


def _pick_column(columns, wanted: str | None, candidates, role: str, path) -> str:
    if wanted is not None:
        if wanted in columns:
            return wanted
        raise DataError(
            f"{path}: no {role} column '{wanted}'; columns found: {', '.join(map(str, columns))}"
        )
    lowered = {str(c).lower(): c for c in columns}
    for name in candidates:
        if name in lowered:
            return lowered[name]
    raise DataError(
        f"{path}: cannot tell which column holds the {role}; columns found: "
        f"{', '.join(map(str, columns))}; expected one of: {', '.join(candidates)}; "
        f"pass --{role}-col"
    )


def with_categories(df: pd.DataFrame, columns, text_col: str = "text") -> pd.Series:
    """The texts of `df` with one token per categorical column in front (see
    :func:`category_token`): how a model trained with ``categorical=...`` reads its input.

    Examples
    --------
    >>> with_categories(pd.DataFrame({"text": ["nice"], "Device_Used": ["Mobile"]}),
    ...                 ["Device_Used"]).tolist()
    ['xxcat_device_used_mobile nice']
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"categorical columns {missing} not found; columns found: "
                        f"{', '.join(map(str, df.columns))}")
    prefix = [df[c].map(lambda v, c=c: category_token(c, v)) for c in columns]
    joined = pd.concat(prefix, axis=1).agg(" ".join, axis=1) if prefix else ""
    return joined + " " + df[text_col].fillna("").astype(str)


def to_text_label(
    df: pd.DataFrame, text_col: str | None = None, label_col: str | None = None, origin="data",
    categorical=None,
) -> pd.DataFrame:
    """Select and normalise the text and label columns (plus ``split`` if present).

    Rows without a label are dropped; missing texts are kept (the text pipeline imputes them).
    The numbers of both are kept in ``df.attrs`` so callers can report them. `categorical`
    columns become tokens in front of each text (:func:`with_categories`); their values are
    listed in ``attrs["categories"]``.
    """
    if len(df.columns) == 0:
        raise DataError(f"{origin}: no columns")
    if len(df) == 0:
        raise DataError(f"{origin}: a header but no rows (columns: "
                        f"{', '.join(map(str, df.columns))})")
    text = _pick_column(df.columns, text_col, TEXT_COLUMNS, "text", origin)
    label = _pick_column(df.columns, label_col, LABEL_COLUMNS, "label", origin)
    _check_roles(text, label, categorical, origin)
    out = pd.DataFrame({"text": df[text], "label": df[label]})
    if categorical:
        out["text"] = with_categories(df.rename(columns={text: "__text"}), list(categorical),
                                      "__text").where(df[text].notna(), None)
    has_br = out["text"].str.contains(_BR, na=False)
    if has_br.any():
        out.loc[has_br, "text"] = out.loc[has_br, "text"].str.replace(_BR, " ", regex=True)
    if "split" in df.columns:
        out["split"] = df["split"].astype(str).str.strip().str.lower()
    out["label"] = out["label"].astype("string").str.strip()
    missing_label = out["label"].isna() | (out["label"] == "")
    out = out[~missing_label].reset_index(drop=True)
    out["label"] = out["label"].astype(str)
    if out.empty:
        raise DataError(f"{origin}: no rows with a label in column '{label}'")
    out.attrs["n_html_breaks"] = int(has_br.sum())
    out.attrs["n_dropped_no_label"] = int(missing_label.sum())
    out.attrs["n_empty_text"] = int((out["text"].isna() | (out["text"].str.strip() == "")).sum())
    if categorical:
        out.attrs["categories"] = {c: sorted(df.loc[~missing_label.to_numpy(), c].astype(str)
                                             .unique().tolist()) for c in categorical}
    return out


def _check_roles(text: str, label: str, categorical, origin) -> None:
    """A column plays one role: a label fed to the input makes every score meaningless."""
    if text == label:
        raise DataError(f"{origin}: '{text}' is both the text and the label column; give "
                        "--text-col and --label-col different columns")
    for column in categorical or ():
        if column in (text, label):
            role = "label" if column == label else "text"
            raise DataError(f"{origin}: --categorical names the {role} column '{column}'; "
                            "categorical columns must be other input columns")


def label_variants(labels) -> list[list[str]]:
    """Groups of labels that differ only by case, spaces or number format (``1``/``1.0``,
    ``POS``/``pos``): almost always one class written two ways.

    >>> label_variants(["1", "1.0", "0", "POS", "pos", "neg"])
    [['1', '1.0'], ['POS', 'pos']]
    """
    groups: dict[str, list[str]] = {}
    for label in labels:
        key = str(label).strip().lower()
        try:
            key = repr(float(key))
        except ValueError:
            pass
        groups.setdefault(key, []).append(str(label))
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def load_dataset(
    source: str | os.PathLike | None = None,
    text_col: str | None = None,
    label_col: str | None = None,
    neutral_band: float = 0.0,
    truthful_only: bool = False,
    quiet: bool = True,
    categorical=None,
) -> pd.DataFrame:
    """Load a data set and return ``DataFrame(text, label[, split])``.

    Parameters
    ----------
    source : str or path, default ``"movie_snippets"``
        A bundled name (``movie_snippets``, ``amazon_snippets``), a local path or an
        ``s3://bucket/key`` (or ``s3://bucket/prefix/`` for an aclImdb tree): a CSV/TSV/Parquet
        table (gzip allowed), an ``aclImdb`` directory or archive, or a snippet file.
    text_col, label_col : str, optional
        Column names; guessed from common names (``text``, ``review``, ``description``,
        ``label``, ``sentiment``, ``polarity``, ``is_response``, ...) when not given. Labels
        may be strings or numbers; they are kept as the user's strings.
    neutral_band : float
        Snippet files only: drop rows whose score is within this distance of 0.
    truthful_only : bool
        Keep only rows whose ``deceptive`` column is ``truthful`` (the Deceptive Opinion Spam
        corpus has 800 truthful and 800 deceptive hotel reviews).
    quiet : bool
        No download progress for ``s3://`` sources.
    categorical : list of str, optional
        Table columns (e.g. ``Device_Used``) whose values become tokens in front of the text
        (see :func:`with_categories`), so they get their own embeddings.

    Examples
    --------
    >>> load_dataset("amazon_snippets").columns.tolist()  # doctest: +SKIP
    ['text', 'label', 'score']
    >>> load_dataset("s3://reviews/aclImdb/").split.unique()  # doctest: +SKIP
    array(['train', 'test'], dtype=object)
    """
    source = DEFAULT_SOURCE if source is None else source
    if str(source) in BUNDLED:
        if categorical:
            raise DataError(f"{source}: the bundled snippets have no categorical columns")
        return read_snippets(DATA_DIR / BUNDLED[str(source)], neutral_band=neutral_band)
    try:
        path = local_path(source, quiet=quiet)
    except StorageError as exc:
        if is_remote(source):
            raise
        names = ", ".join(BUNDLED)
        raise DataError(f"{exc} (bundled data sets: {names})") from None
    origin = str(source)
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{origin}: the file is empty")
    fmt = detect_format(path)
    if categorical and fmt != "table":
        raise DataError(f"{origin}: categorical columns need a table (CSV/TSV/Parquet)")
    if fmt == "snippets":
        return read_snippets(path, neutral_band=neutral_band)
    if fmt == "aclimdb":
        return to_text_label(read_aclimdb(path), "text", "label", origin=origin)
    table = read_table(path)
    if truthful_only:
        table = _truthful(table, origin)
    return to_text_label(table, text_col, label_col, origin=origin, categorical=categorical)


def _truthful(table: pd.DataFrame, origin: str) -> pd.DataFrame:
    column = {str(c).lower(): c for c in table.columns}.get("deceptive")
    if column is None:
        raise DataError(f"{origin}: --truthful-only needs a 'deceptive' column; columns found: "
                        f"{', '.join(map(str, table.columns))}")
    kept = table[table[column].astype(str).str.strip().str.lower() == "truthful"]
    if kept.empty:
        raise DataError(f"{origin}: no row has deceptive == 'truthful'")
    return kept.reset_index(drop=True)


def unlabeled_texts(source: str | os.PathLike, verbose: bool = False,
                    text_col: str | None = None) -> list[str]:
    """Texts without labels: a ``.txt`` file (one text per line, gzip allowed), or any table
    or data set :func:`load_dataset` reads (only its text column is used)."""
    path = local_path(source, quiet=not verbose)
    is_text_file = path.is_file() and ".txt" in _suffixes(path)
    if is_text_file and not _SNIPPET_LINE.match(_first_line(path)):
        with _open(path) as handle:
            return [line.rstrip("\r\n") for line in handle if line.strip()]
    if path.is_file() and not is_text_file and detect_format(path) == "table":
        table = read_table(path)
        column = _pick_column(table.columns, text_col, TEXT_COLUMNS, "text", str(source))
        return table[column].fillna("").astype(str).str.replace(
            "<br />", " ", regex=False).tolist()
    return load_dataset(source, text_col=text_col, quiet=not verbose)["text"].tolist()


def check_classes(df: pd.DataFrame, origin: str = "data") -> list[str]:
    """Return the sorted label names, refusing data with fewer than two classes and warning
    (stderr) about labels that look like one class written two ways."""
    labels = sorted(df["label"].unique().tolist())
    if len(labels) < 2:
        found = f"only the label '{labels[0]}'" if labels else "no labels"
        raise DataError(f"{origin}: {found}; a classifier needs at least two classes")
    for group in label_variants(labels):
        print(f"warning: {origin}: labels {', '.join(map(repr, group))} differ only by case or "
              "number format and are treated as different classes; rewrite them as one "
              "if they mean the same", file=sys.stderr)
    return labels


def split_train_test(df: pd.DataFrame, test_size: float = 0.2, random_state: int = 0,
                     what: str = "test"):
    """Split into (train, test): the ``split`` column if the data has one, else stratified
    (a one-line :class:`DataError` when the data is too small for that)."""
    from sklearn.model_selection import train_test_split

    if "split" in df.columns and {"train", "test"} <= set(df["split"]):
        return (
            df[df["split"] == "train"].reset_index(drop=True),
            df[df["split"] == "test"].reset_index(drop=True),
        )
    _check_stratifiable(df, test_size, what)
    train, test = train_test_split(
        df, test_size=test_size, random_state=random_state, stratify=df["label"]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def _check_stratifiable(df: pd.DataFrame, share: float, what: str) -> None:
    """One line when `df` is too small for a stratified split holding out `share` of it:
    each side needs a row of every class, so every class needs two rows."""
    import math

    counts = df["label"].value_counts()
    n_held = math.ceil(share * len(df))
    n_kept = len(df) - n_held
    if counts.min() >= 2 and min(n_held, n_kept) >= len(counts):
        return
    raise DataError(f"{len(df):,} rows in {len(counts)} classes are too few for a stratified "
                    f"{what} split of {share:g}: it would hold {n_held} row{'s' * (n_held != 1)} "
                    "against "
                    f"{len(counts)} classes, and the smallest class "
                    f"('{counts.idxmin()}') has {counts.min()} rows; every class needs 2 "
                    "rows and each side a row per class (more data, or another size)")


def take_labelled(df: pd.DataFrame, n: int | None, random_state: int = 0,
                  return_rest: bool = False):
    """A stratified sample of `n` labelled rows (all rows when `n` is None).

    With `return_rest`, returns ``(sample, rest)``: the rows not taken serve as unlabelled
    target texts for domain adaptation.
    """
    if n is None or n == len(df):
        sample, rest = df.reset_index(drop=True), df.iloc[:0]
    elif n <= 0:
        raise DataError(f"train size must be positive, got {n}")
    elif n > len(df):
        raise DataError(f"train size {n} is larger than the {len(df)} training rows available")
    else:
        from sklearn.model_selection import train_test_split

        counts = df["label"].value_counts()
        stratify = df["label"] if counts.min() >= 2 and n >= len(counts) else None
        sample, rest = train_test_split(
            df, train_size=n, random_state=random_state, stratify=stratify
        )
        sample = sample.reset_index(drop=True)
    return (sample, rest.reset_index(drop=True)) if return_rest else sample


if __name__ == "__main__":  # python -m transferlearn.data describe|push|pull ...
    from transferlearn.datacmd import main

    sys.exit(main())
