"""Data sets as ``DataFrame(text, label[, split])``: the bundled snippets or any CSV/TSV.

The bundled data (``transferlearn/data/bundled/``, package data) are two sentence-level
sentiment corpora from the VADER release (Hutto & Gilbert 2014, MIT licence): movie review
snippets (the source domain, 10,605 rows) and Amazon product review snippets (the target
domain, 3,708 rows). Each row has the mean of 20 human ratings on -4..+4; we label
``score > 0`` as ``positive`` and ``score < 0`` as ``negative``. Rows with
``|score| <= neutral_band`` have no clear polarity and are dropped; the default band 0.0
drops only exact zeros (37 movie rows, 98 Amazon rows). Widen it (for example to 0.5) to
drop the near-neutral sentences whose label is mostly rater noise.

Other sources, local or ``s3://`` (see :func:`load_dataset`): the Stanford IMDB ``aclImdb``
tree or its ``aclImdb_v1.tar.gz`` archive; any CSV/TSV/Parquet table (gzip or not) such as the
Kaggle IMDB CSVs, the blog's hotel reviews (``Description``/``Is_Response``) or the Deceptive
Opinion Spam corpus (``text``/``polarity``/``deceptive``); and VADER-style snippet files.
HTML line breaks (``<br />``, frequent in IMDB reviews) become spaces in every source.

``transferlearn data get|describe|push|pull`` gets, checks and stages data sets.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import DataError, StorageError
from ..io.storage import is_remote, local_path
from .download import named
from .formats import (
    HTML_BREAK,
    detect_format,
    not_utf8,
    open_text,
    path_suffixes,
    read_aclimdb,
    read_snippets,
    read_table,
)
from .text import category_token

DATA_DIR = Path(__file__).resolve().parent / "bundled"  # package data: it ships in the wheel


BUNDLED = {
    "movie_snippets": "movieReviewSnippets_GroundTruth.txt",
    "amazon_snippets": "amazonReviewSnippets_GroundTruth.txt",
}


DEFAULT_SOURCE = "movie_snippets"


DEFAULT_TARGET = "amazon_snippets"


TEXT_COLUMNS = ("text", "review", "description", "sentence", "content", "comment")


LABEL_COLUMNS = ("label", "sentiment", "polarity", "is_response", "target", "class")


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
    has_br = out["text"].str.contains(HTML_BREAK, na=False)
    if has_br.any():
        out.loc[has_br, "text"] = out.loc[has_br, "text"].str.replace(HTML_BREAK, " ", regex=True)
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
    out.attrs["no_label_rows"] = [int(i) + 1 for i in missing_label.to_numpy().nonzero()[0][:5]]
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
        A bundled name (``movie_snippets``, ``amazon_snippets``), a name ``transferlearn
        data get`` downloaded (``imdb``, ``hotel``), a local path or an
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
    source = named(DEFAULT_SOURCE if source is None else source)
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
    return _read_local(path, str(source), text_col, label_col, neutral_band, truthful_only,
                       categorical)


def _read_local(path: Path, origin: str, text_col, label_col, neutral_band, truthful_only,
                categorical) -> pd.DataFrame:
    """:func:`load_dataset` of a local file or directory, by its detected format."""
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


def text_lines(path: Path) -> list[str]:
    """The non-blank lines of a (possibly compressed) text file, decoded as UTF-8."""
    with open_text(path, binary=True) as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(not_utf8(path)) from None
    return [line.removesuffix("\r") for line in text.split("\n") if line.strip()]


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
    """Texts without labels: a ``.txt`` file (one text per line, whatever the lines look
    like; gzip allowed; blank lines skipped), or any table or data set :func:`load_dataset`
    reads (only its text column is used). Text must be UTF-8, as tables must be: the first
    line that is not is named."""
    source = named(source)
    if str(source) in BUNDLED:
        return load_dataset(source)["text"].tolist()
    path = local_path(source, quiet=not verbose)
    is_text_file = path.is_file() and ".txt" in path_suffixes(path)
    if is_text_file:
        return text_lines(path)
    if path.is_file() and detect_format(path) == "table":
        table = read_table(path)
        column = _pick_column(table.columns, text_col, TEXT_COLUMNS, "text", str(source))
        return table[column].fillna("").astype(str).str.replace(
            "<br />", " ", regex=False).tolist()
    return load_dataset(source, text_col=text_col, quiet=not verbose)["text"].tolist()
