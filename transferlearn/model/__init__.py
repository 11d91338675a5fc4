"""The network: ``TextClassifier`` (embedding -> encoder -> pooling -> output) and batched
inference.

Code imports from the modules; this list is the public part.
"""
from .encoders import ENCODERS
from .inference import layer_output, predict_logits, predict_proba
from .network import TextClassifier, build_model, named_parameters, summary

__all__ = ["ENCODERS", "TextClassifier", "build_model", "layer_output", "named_parameters",
           "predict_logits", "predict_proba", "summary"]
