"""transferlearn: transfer learning for text classification with MXNet/Gluon.

Train a base classifier on a large source domain, transfer it to a small target domain and
measure when that beats training from scratch. See README.md for the quick start.
"""
from ._runtime import check_mxnet, check_numpy, configure_threads

__version__ = "0.1.0"

check_numpy()
configure_threads()

import mxnet as _mx  # noqa: E402  (must follow the numpy check and the thread setting)

check_mxnet(_mx.__version__)

from .errors import BundleError, DataError, StorageError, TransferLearnError  # noqa: E402
from .model import TextClassifier, build_model, named_parameters, summary  # noqa: E402
from .persistence import Bundle, export_model, load_bundle, save_bundle  # noqa: E402
from .strategies import STRATEGIES, Strategy, apply_strategy, register  # noqa: E402
from .text import (  # noqa: E402
    LowerCaser,
    NullImputer,
    Padder,
    TokenIndexer,
    Tokenizer,
    Vocabulary,
    make_pipeline,
)
from .train import History, evaluate, fit, predict_proba  # noqa: E402
from .transfer import (  # noqa: E402
    freeze,
    set_lr_mult,
    trainable,
    transfer_weights,
    unfreeze,
)

# data is imported on first use, so that ``python -m transferlearn.data`` runs it cleanly
_LAZY = {"load_dataset": "data", "split_train_test": "data", "take_labelled": "data"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "STRATEGIES", "Strategy", "register", "Bundle", "BundleError", "DataError", "History",
    "LowerCaser", "NullImputer",
    "Padder", "StorageError", "TextClassifier", "TokenIndexer", "Tokenizer",
    "TransferLearnError", "Vocabulary", "apply_strategy", "build_model", "evaluate",
    "export_model", "fit", "freeze", "load_bundle", "load_dataset", "make_pipeline",
    "named_parameters", "predict_proba", "save_bundle", "set_lr_mult", "split_train_test",
    "summary", "take_labelled", "trainable", "transfer_weights", "unfreeze",
]
