"""The network: ``TextClassifier`` (embedding -> encoder -> pooling -> output) and batched
inference."""
from .encoders import (
    ENCODERS,
    BiLSTMEncoder,
    CNNEncoder,
    MeanEncoder,
    make_encoder,
)
from .inference import (
    layer_output,
    predict_logits,
    predict_proba,
)
from .linear import (
    LinearTextModel,
    export_tfidf_logreg,
)
from .network import (
    SLOTS,
    MaskedPooling,
    TextClassifier,
    build_model,
    named_parameters,
    summary,
    summary_line,
)

__all__ = [
    "BiLSTMEncoder",
    "CNNEncoder",
    "ENCODERS",
    "LinearTextModel",
    "MaskedPooling",
    "MeanEncoder",
    "SLOTS",
    "TextClassifier",
    "build_model",
    "export_tfidf_logreg",
    "layer_output",
    "make_encoder",
    "named_parameters",
    "predict_logits",
    "predict_proba",
    "summary",
    "summary_line",
]
