"""The network: ``TextClassifier`` (embedding -> encoder -> pooling -> output) and batched
inference."""
from .inference import (
    layer_output,
    predict_logits,
    predict_proba,
)
from .network import (
    ENCODERS,
    SLOTS,
    BiLSTMEncoder,
    CNNEncoder,
    MaskedPooling,
    MeanEncoder,
    TextClassifier,
    build_model,
    make_encoder,
    named_parameters,
    summary,
)

__all__ = [
    "BiLSTMEncoder",
    "CNNEncoder",
    "ENCODERS",
    "MaskedPooling",
    "MeanEncoder",
    "SLOTS",
    "TextClassifier",
    "build_model",
    "layer_output",
    "make_encoder",
    "named_parameters",
    "predict_logits",
    "predict_proba",
    "summary",
]
