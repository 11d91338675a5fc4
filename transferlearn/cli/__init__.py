"""The command line: shared flags and error handling, ``data`` and ``launch``."""
from .common import (
    category_map,
    column_list,
    data_arguments,
    gpu_list,
    one_line_errors,
    run,
    setting,
    storage_arguments,
    training_arguments,
)

__all__ = [
    "category_map",
    "column_list",
    "data_arguments",
    "gpu_list",
    "one_line_errors",
    "run",
    "setting",
    "storage_arguments",
    "training_arguments",
]
