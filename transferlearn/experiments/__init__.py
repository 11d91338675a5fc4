"""End-to-end runs: train a base, transfer it, compare strategies, learning curves, reports and
figures. The scripts, the notebooks and the tests call these."""
from .base import (
    train_base,
)
from .compare import (
    compare,
    source_sample,
    tsne_figure,
)
from .curve import (
    learning_curve,
    parse_sizes,
)
from .curves import (
    CURVE_COLUMNS,
    STYLE_ORDER,
    TRANSFER_STRATEGIES,
    curve_table,
    mark_negative_transfer,
    negative_transfer_warnings,
    plot_curve,
    style_order,
    summarise,
)
from .embeddings import (
    plot_domains,
    proxy_a_distance,
    tsne_2d,
)
from .pretrain import (
    pretrain,
)
from .reports import (
    BASELINES,
    baseline_scores,
    distillation_report,
    format_table,
    label_shift_scores,
    marked_table,
    parse_baselines,
    reference_rows,
    run_rows,
    source_only,
    source_priors,
    table_of_runs,
    zero_label_scores,
)
from .result import Result
from .selection import (
    NEURAL,
    WEIGHTS,
    Choice,
    TestRowsGuard,
    choice_lines,
    choose,
    fold_splits,
    run_selection,
)
from .target import (
    run_strategy,
    splits_for,
    target_splits,
    transfer,
)

__all__ = [
    "BASELINES",
    "Result",
    "CURVE_COLUMNS",
    "Choice",
    "NEURAL",
    "STYLE_ORDER",
    "TRANSFER_STRATEGIES",
    "TestRowsGuard",
    "WEIGHTS",
    "baseline_scores",
    "choice_lines",
    "choose",
    "compare",
    "curve_table",
    "distillation_report",
    "fold_splits",
    "format_table",
    "label_shift_scores",
    "learning_curve",
    "mark_negative_transfer",
    "marked_table",
    "negative_transfer_warnings",
    "parse_baselines",
    "parse_sizes",
    "plot_curve",
    "plot_domains", "pretrain",
    "proxy_a_distance",
    "reference_rows",
    "run_rows",
    "run_selection",
    "run_strategy",
    "source_only",
    "source_priors",
    "source_sample",
    "splits_for",
    "style_order",
    "summarise",
    "table_of_runs",
    "target_splits",
    "train_base",
    "transfer",
    "tsne_2d",
    "tsne_figure",
    "zero_label_scores",
]
