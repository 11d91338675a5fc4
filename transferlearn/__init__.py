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

from . import _aliases  # noqa: E402
from .data.pipeline import make_pipeline  # noqa: E402
from .data.readers import load_dataset  # noqa: E402
from .data.splits import split_train_test, take_labelled  # noqa: E402
from .data.text import (  # noqa: E402
    LowerCaser,
    NullImputer,
    Padder,
    Tok2Idx,
    TokenIndexer,
    Tokenize,
    Tokenizer,
    Vocabulary,
)
from .errors import BundleError, DataError, StorageError, TransferLearnError  # noqa: E402
from .io.bundle import Bundle, export_model, load_bundle, save_bundle  # noqa: E402
from .model.inference import predict_proba  # noqa: E402
from .model.network import TextClassifier, build_model, named_parameters, summary  # noqa: E402
from .training.fit import fit  # noqa: E402
from .training.loop import History  # noqa: E402
from .training.metrics import evaluate  # noqa: E402
from .transfer.freezing import freeze, set_lr_mult, trainable, unfreeze  # noqa: E402
from .transfer.strategies import STRATEGIES, Strategy, apply_strategy, register  # noqa: E402
from .transfer.weights import transfer_weights  # noqa: E402

_aliases.install(__name__)  # version 1's flat module names: transferlearn.train, .workflow, ...


def __getattr__(name):
    """``transferlearn.train`` and the other version 1 names as attributes, too."""
    if name in _aliases.MOVED:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "STRATEGIES", "Strategy", "register", "Bundle", "BundleError", "DataError", "History",
    "LowerCaser", "NullImputer",
    "Padder", "StorageError", "Tok2Idx", "Tokenize", "TextClassifier", "TokenIndexer", "Tokenizer",
    "TransferLearnError", "Vocabulary", "apply_strategy", "build_model", "evaluate",
    "export_model", "fit", "freeze", "load_bundle", "load_dataset", "make_pipeline",
    "named_parameters", "predict_proba", "save_bundle", "set_lr_mult", "split_train_test",
    "summary", "take_labelled", "trainable", "transfer_weights", "unfreeze",
]
