"""transferlearn: transfer learning for text classification with MXNet/Gluon.

Train a base classifier on a large source domain, transfer it to a small target domain and
measure when that beats training from scratch. See README.md for the quick start.
"""
import importlib

from ._runtime import check_installed_mxnet, check_numpy, configure_threads

__version__ = "0.1.0"

check_numpy()
configure_threads()  # before any module imports mxnet: they all import this package first
check_installed_mxnet()

from . import _aliases  # noqa: E402

# The public API, imported on first use: `transferlearn --help`, a flag's one-line error and
# `import transferlearn` cost no MXNet import (3.5 s of a cold start on this machine's 2 cores).
_PUBLIC = {
    "make_pipeline": "data.pipeline", "load_dataset": "data.readers",
    "split_train_test": "data.splits", "take_labelled": "data.splits",
    **dict.fromkeys(("LowerCaser", "NullImputer", "Padder", "Tok2Idx", "TokenIndexer",
                     "Tokenize", "Tokenizer", "Vocabulary"), "data.text"),
    **dict.fromkeys(("BundleError", "DataError", "StorageError", "TransferLearnError"),
                    "errors"),
    **dict.fromkeys(("Bundle", "export_model", "load_bundle", "save_bundle"), "bundle.store"),
    "predict_proba": "model.inference",
    **dict.fromkeys(("TextClassifier", "build_model", "named_parameters", "summary"),
                    "model.network"),
    "fit": "training.fit", "History": "training.loop", "evaluate": "training.metrics",
    **dict.fromkeys(("freeze", "set_lr_mult", "trainable", "unfreeze"), "transfer.freezing"),
    **dict.fromkeys(("STRATEGIES", "Strategy", "apply_strategy", "register"),
                    "transfer.strategies"),
    "transfer_weights": "transfer.weights",
}
_SUBPACKAGES = ("bundle", "cli", "data", "experiments", "io", "model", "sklearn", "training",
                "transfer")

_aliases.install(__name__)  # version 1's flat module names: transferlearn.train, .workflow, ...


def __getattr__(name):
    """The public names and subpackages on first use; ``transferlearn.train`` and the other
    version 1 names as attributes, too."""
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES or name in _aliases.MOVED and "." not in name:
        return importlib.import_module(f"{__name__}.{name}")  # an old name: its new home
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC) | set(_SUBPACKAGES))


__all__ = sorted(_PUBLIC)  # the public API is the names loaded on first use
