"""The training loop ``fit``, its steps and callbacks, metrics, and the distributed kvstore."""
from ..model.inference import predict_logits, predict_proba  # as in version 1
from .callbacks import (
    Callback,
    Checkpoint,
    EpochEnd,
    KeepBest,
    Progress,
    Schedule,
    Unfreeze,
    epoch_line,
    slanted_triangular,
)
from .distributed import (
    DIST_KINDS,
    Cluster,
    cluster,
    is_distributed,
    rank,
)
from .fit import (
    fit,
    standard_callbacks,
)
from .loop import (
    Data,
    History,
    Loop,
    batch_part,
    clone_state,
    device_contexts,
    epoch_seed,
    make_trainer,
    train_loop,
    trainable_parameters,
)
from .metrics import (
    evaluate,
    scores,
)
from .steps import (
    CrossEntropy,
    Distillation,
    Step,
)

__all__ = [
    "predict_logits",
    "predict_proba",
    "Callback",
    "Checkpoint",
    "Cluster",
    "CrossEntropy",
    "DIST_KINDS",
    "Data",
    "Distillation",
    "EpochEnd",
    "History",
    "KeepBest",
    "Loop",
    "Progress",
    "Schedule",
    "Step",
    "Unfreeze",
    "batch_part",
    "clone_state",
    "cluster",
    "device_contexts",
    "epoch_line",
    "epoch_seed",
    "evaluate",
    "fit",
    "is_distributed",
    "make_trainer",
    "rank",
    "scores",
    "slanted_triangular",
    "standard_callbacks",
    "train_loop",
    "trainable_parameters",
]
