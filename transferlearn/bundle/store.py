"""Model bundles: a directory with ``model.params``, ``config.json``, ``vocab.json`` and
``metrics.json``.

Loading reads JSON and MXNet's own parameter format only: nothing is unpickled and no code
from the bundle runs, so a bundle from a bucket you do not control is safe to load. Saving
writes each file through a temp file and a rename, ``config.json`` last, so an interrupted
save never leaves a half-written file, nor a loadable mix of an old and a new bundle.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import mxnet as mx
import numpy as np
from sklearn.pipeline import Pipeline

from ..data.pipeline import fitted_pipeline, pipeline_config, vocabulary_of
from ..data.text import Vocabulary, text_list
from ..errors import BundleError, StorageError, last_line
from ..io.manifest import record
from ..io.outputs import check_output_file, refuse_foreign
from ..io.storage import (
    atomic_path,
    atomic_write,
    file_sha256,
    is_remote,
    local_path,
    temp_dir,
    write_failure,
)
from ..model.linear import LinearMixture, LinearTextModel, blend, linear_model
from ..model.network import TextClassifier, build_model
from .schema import (
    SchemaError,
    check_ensemble_section,
    check_labels,
    check_linear,
    check_model,
    check_preprocessing,
    check_tokens,
    check_training,
    config_digest,
)

FORMAT = "transferlearn-bundle"
FORMAT_VERSION = 1
LINEAR_FILE = "linear.json"  # an ensemble's linear model (with its source models, for a prior)
FILES = ("model.params", "config.json", "vocab.json")


def library_versions() -> dict:
    import gluonnlp
    import sklearn

    from .. import __version__

    return {"transferlearn": __version__, "mxnet": mx.__version__, "numpy": np.__version__,
            "gluonnlp": gluonnlp.__version__, "scikit-learn": sklearn.__version__}


def write_json(path: str | os.PathLike, obj) -> None:
    """Write `obj` as indented, strict JSON, atomically: NaN and infinities (a ROC AUC on a
    one-class test split) become ``null``, which every JSON parser reads."""
    with atomic_write(path) as handle:
        json.dump(plain_json(obj), handle, indent=2, sort_keys=False, allow_nan=False)
        handle.write("\n")


def plain_json(value):
    """`value` with numpy scalars and arrays as Python ones and non-finite floats as None."""
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain_json(v) for v in (value.tolist() if isinstance(value, np.ndarray)
                                        else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# The most a bundle file may hold before it is read (a link to /dev/zero is no file at all).
SIZE_CAPS = {"config.json": 1 << 20, "vocab.json": 256 << 20, "metrics.json": 64 << 20,
             "model.params": 8 << 30, LINEAR_FILE: 512 << 20}


def _checked_file(path: Path, cap: int | None = None) -> Path:
    """`path` if it is a regular file inside its bundle directory and at most `cap` bytes."""
    bundle = path.parent.resolve()
    if path.is_symlink() and path.resolve().parent != bundle:
        raise BundleError(f"{path}: a link out of the bundle (to {path.resolve()}); a bundle "
                          "holds its own files")
    if not path.exists():
        raise FileNotFoundError(path)
    if not path.is_file():
        raise BundleError(f"{path}: not a regular file")
    cap = cap or SIZE_CAPS.get(path.name, 64 << 20)
    size = path.stat().st_size
    if size > cap:
        raise BundleError(f"{path}: {size:,} bytes, over the {cap:,} a {path.name} may have")
    return path


def read_json(path: Path, what: str):
    """Parse a bundle's JSON file, checked first (:func:`_checked_file`); one-line errors."""
    try:
        with open(_checked_file(path), "rb") as handle:
            return json.loads(handle.read(SIZE_CAPS.get(path.name, 64 << 20) + 1))
    except FileNotFoundError:
        raise BundleError(f"{path.parent}: not a model bundle ({what} {path.name} missing)") \
            from None
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BundleError(f"{path}: corrupt {what} ({str(exc)[:200]})") from None


@dataclass
class Bundle:
    """A trained network with the preprocessing and label names it needs."""

    net: TextClassifier
    pipeline: Pipeline
    labels: list
    config: dict
    metrics: dict = field(default_factory=dict)
    path: Path | None = None
    ensemble: dict | None = None  # {"weight": w, "linear": TF-IDF arrays}: w * net + (1-w) * TF-IDF

    @property
    def vocab(self) -> Vocabulary:
        return vocabulary_of(self.pipeline)

    def transform(self, texts) -> np.ndarray:
        """Texts (a list, array, Series or one-column frame) -> padded ids ``(n, max_len)``."""
        return self.pipeline.transform(texts)

    # texts tokenized and scored together: bounds the memory of the token lists and ids
    # whatever the number of texts (25,000 IMDB reviews: see the README's speed section)
    CHUNK = 8192

    def predict_proba(self, texts, batch_size: int = 512) -> np.ndarray:
        """Class probabilities; an ensemble bundle averages the network's with its TF-IDF
        model's, by the weight cross-validation chose. Texts go through the whole path
        (tokenizing included) :attr:`CHUNK` at a time."""
        texts = text_list(texts)
        if not texts:  # every bundle kind: no rows in, no rows out
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        if len(texts) <= self.CHUNK:
            return self._proba(texts, batch_size)
        return np.concatenate([self._proba(texts[start:start + self.CHUNK], batch_size)
                               for start in range(0, len(texts), self.CHUNK)])

    def _proba(self, texts: list, batch_size: int) -> np.ndarray:
        from ..model.inference import predict_proba

        proba = predict_proba(self.net, self.transform(texts), batch_size)
        if self.ensemble is None:
            return proba
        return blend(proba, self.ensemble["weight"], self._linear, texts)

    @functools.cached_property
    def _linear(self) -> LinearTextModel | LinearMixture:
        """An ensemble's linear model (or mixture of them), built once per bundle (its
        vectorizer holds the whole term dictionary)."""
        return linear_model(self.ensemble["linear"])  # type: ignore[index]

    def predict(self, texts, batch_size: int = 512) -> list:
        """Predicted label names (the user's own labels)."""
        proba = self.predict_proba(texts, batch_size)
        return [self.labels[i] for i in proba.argmax(axis=1)]


CHECKED_FILES = ("model.params", "vocab.json")  # and LINEAR_FILE when the bundle has one


def _check_integrity(path: Path, config: dict) -> None:
    """Refuse files whose sha256 differs from the one recorded at save time, config.json's
    own content included (``config_sha256``, over its canonical JSON)."""
    own = config.get("config_sha256")
    if own is not None and own != config_digest(config):
        raise BundleError(f"{path}/config.json: content does not match its config_sha256 "
                          "(the file was changed or damaged after saving)")
    recorded = config.get("sha256")
    if recorded is None:
        return  # bundles written before checksums were recorded
    if not isinstance(recorded, dict):
        raise BundleError(f"{path}/config.json: 'sha256' must map file names to digests")
    for name in CHECKED_FILES + ((LINEAR_FILE,) if LINEAR_FILE in recorded else ()):
        file = path / name
        try:
            _checked_file(file)  # a link out of the bundle or a device: named as such
        except FileNotFoundError:
            raise BundleError(f"{path}: not a model bundle ({name} missing)") from None
        if recorded.get(name) != file_sha256(file):
            raise BundleError(f"{file}: sha256 does not match config.json (the file was "
                              "changed, truncated or damaged after saving)")


def save_bundle(path: str | os.PathLike, net: TextClassifier, pipeline, labels,
                metrics: dict | None = None, extra: dict | None = None,
                overwrite: bool = False) -> Path:
    """Write a bundle directory at `path`, file by file, each through a temp file and a rename.

    ``config.json`` is removed first and written last: while the files change, the directory
    is no loadable bundle, never a mix of an old and a new one. Nothing but the bundle's own
    files is touched, and a directory holding anything the tool did not write is refused
    (`overwrite`: files of the bundle's names are replaced all the same), so an earlier
    bundle is replaced but a user's files never are. Working inside the directory (no rename of the
    directory itself) also makes mount points and ``.`` valid places.
    """
    path = Path(path)
    refuse_foreign(path, "bundle directory", overwrite)
    path.mkdir(parents=True, exist_ok=True)
    config = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": net.config, "preprocessing": pipeline_config(pipeline),
        "labels": list(labels), "versions": library_versions(),
    }
    config.update(extra or {})
    with contextlib.suppress(FileNotFoundError):
        (path / "config.json").unlink()
    save_params(path / "model.params", lambda name: net.save_parameters(name))
    write_json(path / "vocab.json", vocabulary_of(pipeline).idx_to_token)
    write_json(path / "metrics.json", metrics or {})
    names: tuple[str, ...] = CHECKED_FILES
    ensemble = config.get("ensemble")
    if isinstance(ensemble, dict):  # the linear model's arrays: a file of its own
        write_json(path / LINEAR_FILE, ensemble["linear"])
        config["ensemble"] = {**ensemble, "linear": LINEAR_FILE}
        names += (LINEAR_FILE,)
    else:
        with contextlib.suppress(FileNotFoundError):
            (path / LINEAR_FILE).unlink()  # an earlier bundle's, written by this tool
    config["sha256"] = {name: file_sha256(path / name) for name in names}
    config = plain_json(config)
    config["config_sha256"] = config_digest(config)
    write_json(path / "config.json", config)
    return path


def save_params(path: Path, save) -> None:
    """Write an MXNet parameter file through ``save(filename)``, atomically, and read it back.

    MXNet does not report every failed write (a full disk at its final flush leaves a short
    file), so the file is loaded once before it takes its final name.
    """
    try:
        with atomic_path(path) as tmp:
            save(str(tmp))
            mx.nd.load(str(tmp))
    except mx.base.MXNetError as exc:
        raise StorageError(f"cannot write {path}: {write_failure(exc, path)}") from None


def load_bundle(path: str | os.PathLike, ctx=None) -> Bundle:
    """Load a bundle written by :func:`save_bundle`.

    Raises
    ------
    BundleError
        If the directory is missing, a file is missing or corrupt, or the parameters do not
        match the architecture in ``config.json``.
    """
    if is_remote(path):
        path = local_path(path)  # fetched into the download cache
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"model bundle not found: {path}")
    config = read_json(path / "config.json", "config")
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise BundleError(f"{path}: config.json is not a {FORMAT} config")
    version = config.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise BundleError(f"{path}/config.json: format_version must be an integer, got "
                          f"{version!r}")
    if version > FORMAT_VERSION:
        raise BundleError(f"{path}: bundle format {version} is newer than this transferlearn "
                          f"understands ({FORMAT_VERSION}); upgrade")
    _check_integrity(path, config)
    try:
        tokens = check_tokens(read_json(path / "vocab.json", "vocabulary"))
    except SchemaError as exc:
        raise BundleError(f"{path}/vocab.json: {exc}") from None
    try:
        labels = check_labels(config.get("labels"))
        model_config = check_model(config.get("model"), len(tokens), len(labels))
        preprocessing = check_preprocessing(config.get("preprocessing"))
        check_training(config.get("training"))
        if "ensemble" in config:
            check_ensemble_section(config["ensemble"])
    except SchemaError as exc:
        raise BundleError(f"{path}/config.json: {exc}") from None
    ensemble = _ensemble_of(path, config["ensemble"], len(labels)) if "ensemble" in config \
        else None
    net = _load_net(path, dict(model_config), ctx)
    metrics_path = path / "metrics.json"
    metrics = read_json(metrics_path, "metrics") if metrics_path.exists() else {}
    return Bundle(net, fitted_pipeline(dict(preprocessing), Vocabulary(tokens)), labels,
                  config, metrics if isinstance(metrics, dict) else {}, path, ensemble)


def _ensemble_of(path: Path, ensemble: dict, n_labels: int) -> dict:
    """The ensemble section with its linear model's arrays read from their file (bundles of
    this version; earlier ones hold them inline), checked; errors name the file at fault."""
    where, linear = "config.json", ensemble["linear"]
    if isinstance(linear, str):
        if linear != LINEAR_FILE:
            raise BundleError(f"{path}/config.json: ensemble linear must be {LINEAR_FILE!r} or "
                              "the arrays inline")
        where, linear = LINEAR_FILE, read_json(path / LINEAR_FILE, "linear model")
    try:
        check_linear(linear, n_labels)
    except SchemaError as exc:
        raise BundleError(f"{path}/{where}: {exc}") from None
    return {**ensemble, "linear": linear}


def _load_net(path: Path, model_config: dict, ctx) -> TextClassifier:
    """Build the network of a checked config and load its weights (one-line errors)."""
    net = build_model(model_config)
    params = path / "model.params"
    try:
        _checked_file(params)
    except FileNotFoundError:
        raise BundleError(f"{path}: not a model bundle (model.params missing)") from None
    try:
        net.load_parameters(str(params), ctx=ctx or mx.cpu())
    except (mx.base.MXNetError, AssertionError, ValueError, OSError) as exc:
        raise BundleError(f"{params}: cannot load parameters ({last_line(exc)})") from None
    return net


def export_model(net: TextClassifier, prefix: str | os.PathLike, seq_len: int) -> list[Path]:
    """Export symbol + params (``PREFIX-symbol.json``, ``PREFIX-0000.params``) for deployment.

    The exported graph takes ``data`` of shape ``(batch, seq_len)`` int32 and returns logits;
    load it with ``mx.gluon.SymbolBlock.imports`` or any MXNet runtime.
    """
    prefix = Path(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    net.hybridize(static_alloc=True, static_shape=True)
    net(mx.nd.zeros((1, seq_len), dtype="int32"))
    tmp = temp_dir(prefix.parent, ".export-")
    try:
        net.export(str(tmp / prefix.name), epoch=0)
        produced = sorted(tmp.iterdir())
        for file in produced:  # all checked before any is replaced
            check_output_file(prefix.parent / file.name, role="export")
        written = []
        for file in produced:
            final = prefix.parent / file.name
            digest = file_sha256(file)
            os.replace(file, final)
            record(final, digest)
            written.append(final)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return written
