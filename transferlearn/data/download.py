"""The blog's data sets, downloaded from where their authors publish them and checked against
a pinned checksum: ``transferlearn data get imdb`` / ``hotel``, then ``--data imdb``.

Each data set is one registered :class:`Remote`: its URL, the checksum of the file there (taken
from a published source, named in ``pinned_by``), the file it becomes in the data folder and
how. The data folder is ``$TRANSFERLEARN_DATA``, else ``data/`` at the project's root (a source
checkout) or in the working directory. A copy already there is used: the prepared file if the
tool wrote it (its record, :mod:`transferlearn.io.manifest`, holds its bytes) or if its content
has the pinned sha256 (a copy of the same table), else the downloaded file if its checksum
holds. ``$TRANSFERLEARN_DATA_URL`` names a mirror that serves
the same files under the same names (checked the same way).

Example::

    >>> from transferlearn.data.download import get
    >>> get("hotel")                                         # doctest: +SKIP
    PosixPath('.../data/hotel_reviews.csv')
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .formats import read_aclimdb

# Seconds a download may wait on the server for any one read.
TIMEOUT = 60.0


@dataclass(frozen=True)
class Remote:
    """A data set published at `url`; `checksum` ``"md5:..."`` / ``"sha256:..."`` is the
    downloaded file's; `prepare(downloaded, out)` writes the file the tool reads (`file`), a
    gzip CSV whose uncompressed bytes have the sha256 `content` (None: not pinned)."""

    name: str
    url: str
    checksum: str
    file: str
    about: str
    pinned_by: str
    prepare: Callable[[Path, Path], None]
    content: str | None = None

    @property
    def download_name(self) -> str:
        return self.url.rsplit("/", 1)[-1]


def imdb_table(archive: Path, out: Path) -> None:
    """``aclImdb_v1.tar.gz`` -> one gzip CSV: ``review`` (as in the file), ``sentiment``,
    ``split`` (the official 25k/25k), ``rating``, ``file`` (its path in the archive); rows by
    split (train first), label (negative first), numeric id; ``unsup`` left out."""
    df = read_aclimdb(archive).rename(columns={"text": "review", "label": "sentiment"})
    with gzip.open(out, "wt", encoding="utf-8", newline="") as handle:
        df[["review", "sentiment", "split", "rating", "file"]].to_csv(handle, index=False)


def gzipped(download: Path, out: Path) -> None:
    """The downloaded file as it is, gzip-compressed (pandas reads it directly)."""
    with open(download, "rb") as src, gzip.open(out, "wb") as dst:
        shutil.copyfileobj(src, dst)


REGISTRY: dict[str, Remote] = {}


def register(remote: Remote) -> Remote:
    REGISTRY[remote.name] = remote
    return remote


register(Remote(
    "imdb", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
    "md5:7c2ac02c03563afcf9b574c7e56c153a", "imdb_reviews.csv.gz",
    "Stanford Large Movie Review Dataset v1.0 (Maas et al., ACL 2011): 50,000 labelled "
    "reviews, official 25k/25k split; 84 MB download",
    "torchtext.datasets.IMDB (MD5)", imdb_table,
    # the CSV's bytes: those of the copy in this project's shared datasets (its README)
    "631e3c4f244a8d2faada6ca7be86925d0004dc72206b8d0d21a7f7737160c7d9"))
register(Remote(
    "hotel", "https://raw.githubusercontent.com/ahmedMkhedr/NLP-Random-forest-and-Gradiant-"
             "boost-to-predict-fake-hotel-reviews/7820fbf5add7d3a22cdf17e69a36d5c11f603c74/"
             "deceptive-opinion.csv",
    "sha256:1a64b1f736e45be33db8e94f9d659107362d42d3f092908985e56891874344e6",
    "hotel_reviews.csv.gz",
    "Deceptive Opinion Spam corpus v1.4 (Ott et al., ACL 2011, NAACL 2013), Kaggle's one-CSV "
    "form: 1,600 hotel reviews, 800 positive / 800 negative (label: polarity); 1.4 MB",
    "git blob 89b47949ff126897159c425c7199d565406ed33f at the pinned commit", gzipped,
    "1a64b1f736e45be33db8e94f9d659107362d42d3f092908985e56891874344e6"))


def data_home() -> Path:
    """``$TRANSFERLEARN_DATA``, else ``data/`` at a source checkout's root, else ``./data``."""
    if os.environ.get("TRANSFERLEARN_DATA"):
        return Path(os.environ["TRANSFERLEARN_DATA"]).expanduser()
    root = Path(__file__).resolve().parents[2]
    return root / "data" if (root / "pyproject.toml").is_file() else Path.cwd() / "data"


def remote(name: str) -> Remote:
    try:
        return REGISTRY[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; transferlearn data get knows "
                        f"{', '.join(REGISTRY)}") from None


def named(source):
    """`source`, or the prepared file's path if it is a registered name (``imdb``) and no
    file of that name is in the working directory."""
    if isinstance(source, str) and source in REGISTRY and not Path(source).exists():
        return str(path_of(source))
    return source


def path_of(name: str) -> Path:
    """Where ``--data NAME`` reads: the prepared file, or one line saying how to get it."""
    spec = remote(name)
    path = data_home() / spec.file
    if not path.is_file():
        raise DataError(f"{name}: not downloaded yet ({path} is missing); run: transferlearn "
                        f"data get {name}")
    return path


def get(name: str, *, quiet: bool = False, overwrite: bool = False,
        spec: Remote | None = None) -> Path:
    """Download data set `name` (or `spec`) into :func:`data_home`, check it, prepare it;
    the prepared file's path. A copy already there is used (see the module's text)."""
    from ..io.manifest import file_sha256, record_files, written_by_tool
    from ..io.outputs import check_output_file
    from ..io.storage import atomic_path

    spec = spec or remote(name)
    home = data_home()
    out = home / spec.file
    if written_by_tool(out):
        _say(quiet, f"{spec.name}: using {out} (already downloaded and checked)")
        return out
    if out.is_file() and not out.is_symlink() and spec.content and _content_holds(out, spec):
        record_files(home, {out.name: file_sha256(out)})  # a copy of the same bytes: used
        _say(quiet, f"{spec.name}: using {out} (its content's sha256 matches)")
        return out
    check_output_file(out, overwrite=overwrite, role=f"data get {spec.name}")
    home.mkdir(parents=True, exist_ok=True)
    downloaded = home / spec.download_name
    if downloaded.is_file() and _matches(downloaded, spec.checksum):
        record_files(home, {downloaded.name: file_sha256(downloaded)})  # checked: the tool's
        _say(quiet, f"{spec.name}: using {downloaded} (its {spec.checksum.split(':')[0]} "
                    "matches)")
    else:  # atomic_path records it
        check_output_file(downloaded, overwrite=overwrite, role=f"data get {spec.name}")
        _download(spec, downloaded, quiet)
    _say(quiet, f"{spec.name}: preparing {out.name}")
    with atomic_path(out) as tmp:  # renamed over `out` and recorded only if all went well
        spec.prepare(downloaded, tmp)
        if spec.content and not _content_holds(tmp, spec):
            raise DataError(f"{spec.name}: the prepared {out.name} is not the published "
                            f"table (sha256 of its content is not {spec.content[:12]}...)")
    _say(quiet, f"{spec.name}: {out} ({spec.about})")
    return out


def _url(spec: Remote) -> str:
    mirror = os.environ.get("TRANSFERLEARN_DATA_URL")
    return f"{mirror.rstrip('/')}/{spec.download_name}" if mirror else spec.url


def _download(spec: Remote, dest: Path, quiet: bool) -> None:
    """`spec`'s file into `dest` through a temp file, with a progress bar; kept only if its
    checksum matches."""
    from tqdm.auto import tqdm

    from ..io.storage import atomic_path

    url = _url(spec)
    with atomic_path(dest) as tmp:  # kept, and recorded, only if the checksum matches
        with open(tmp, "wb") as handle, _opened(url, spec) as response:
            size = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=size, unit="B", unit_scale=True, desc=f"download {dest.name}",
                      disable=True if quiet else None) as bar:
                while chunk := _read(response, url):
                    handle.write(chunk)
                    bar.update(len(chunk))
        if not _matches(tmp, spec.checksum):
            raise DataError(f"{url}: the download does not match its pinned "
                            f"{spec.checksum} ({spec.pinned_by}); nothing was kept")


@contextlib.contextmanager
def _opened(url: str, spec: Remote):
    hint = (f"; offline? put {spec.download_name} in {data_home()} (or set "
            "TRANSFERLEARN_DATA_URL to a mirror) and run this again")
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        raise DataError(f"{url}: HTTP {exc.code} {exc.reason}{hint}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"cannot download {url} ({reason}){hint}") from None
    with response:
        yield response


def _read(response, url: str) -> bytes:
    try:
        return response.read(1 << 20)
    except (OSError, urllib.error.URLError) as exc:
        raise DataError(f"{url}: the download stopped ({exc})") from None


def _matches(path: Path, checksum: str) -> bool:
    kind, _, expected = checksum.partition(":")
    digest = hashlib.new(kind)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest() == expected.lower()


def _content_holds(path: Path, spec: Remote) -> bool:
    """True if `path` (gzip or not) holds the bytes whose sha256 is ``spec.content``."""
    from .formats import open_text

    digest = hashlib.sha256()
    try:
        with open_text(path, binary=True) as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except (OSError, EOFError, DataError):
        return False
    return digest.hexdigest() == spec.content


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        print(line, file=sys.stderr)


__all__ = ["REGISTRY", "Remote", "data_home", "get", "imdb_table", "named", "path_of", "register",
           "remote"]
