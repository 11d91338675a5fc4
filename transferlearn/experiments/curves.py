"""Learning curves: summarise accuracy per strategy and label count, flag negative transfer,
and plot mean +- std against the number of labelled target rows."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..io.outputs import save_figure
from ..transfer.strategies import REFERENCE, base_using_names, names

# The rule for negative transfer: every strategy that learns from the base (its weights, as
# fine-tune or cross-arch, or its outputs, as distill; ``Strategy.uses_base``) is compared
# with the reference (scratch) trained on the same rows. Both lists are read from the
# registry when used, so a strategy registered later is flagged and styled too; the
# module-level names are their state at import, kept for version 1 callers.
_COMMITTED_ORDER = ("tfidf-logreg", "catboost-text", "embedding-logreg", "scratch",
                    "feature-extract", "fine-tune", "gradual", "dann", "mmd", "coral")


def style_order() -> tuple[str, ...]:
    """Markers and colours by position: the committed figures' order, then the registry's."""
    return _COMMITTED_ORDER + tuple(n for n in names() if n not in _COMMITTED_ORDER)


TRANSFER_STRATEGIES = base_using_names()
STYLE_ORDER = style_order()
CURVE_COLUMNS = ["strategy", "n_train", "seed", "accuracy", "roc_auc", "seconds",
                 "picked"]  # picked: what a strategy chosen by cross-validation chose


def summarise(curve: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of accuracy and ROC AUC per (strategy, n_train)."""
    grouped = curve.groupby(["strategy", "n_train"], sort=False)
    out = grouped.agg(accuracy=("accuracy", "mean"), accuracy_std=("accuracy", "std"),
                      roc_auc=("roc_auc", "mean"), runs=("seed", "count")).reset_index()
    out["accuracy_std"] = out["accuracy_std"].fillna(0.0)
    return out


def mark_negative_transfer(table: pd.DataFrame, tolerance: float = 0.0) -> pd.DataFrame:
    """Add ``vs_scratch`` (accuracy minus scratch's at the same n_train) and
    ``negative_transfer`` (a transfer strategy more than `tolerance` below scratch).

    `table` has one row per strategy and n_train (a comparison, or :func:`summarise`'s
    output); rows with no scratch at their n_train get NaN and False.
    """
    table = table.copy()
    scratch = table[table["strategy"] == REFERENCE].set_index("n_train")["accuracy"]
    reference = table["n_train"].map(scratch)
    is_transfer = table["strategy"].isin(base_using_names())
    table["vs_scratch"] = np.where(is_transfer, table["accuracy"] - reference, np.nan)
    table["negative_transfer"] = is_transfer & (table["vs_scratch"] < -tolerance)
    return table


def negative_transfer_warnings(table: pd.DataFrame) -> list[str]:
    """One line per strategy and n_train where transfer did worse than scratch."""
    marked = table if "negative_transfer" in table else mark_negative_transfer(table)
    return [f"warning: negative transfer: {row.strategy} scored {row.accuracy:.4f}, below "
            f"scratch ({row.accuracy - row.vs_scratch:.4f}) with {row.n_train} labelled "
            "target rows; on this data training from scratch is the better choice"
            for row in marked[marked["negative_transfer"]].itertuples()]


def plot_curve(curve: pd.DataFrame, path: str | os.PathLike, title: str | None = None,
               overwrite: bool = False) -> str:
    """Accuracy (mean +- std over seeds) per strategy vs labelled target rows, log x axis.

    Zero-label rows (``source-only``, the base model as is, and ``source-only+priors``) are
    drawn as horizontal lines.
    """
    # A bare Figure renders without pyplot: the user's backend (a notebook's) stays as it is.
    from matplotlib.figure import Figure

    stats = summarise(curve)
    fig = Figure(figsize=(10 if stats["strategy"].nunique() <= 16 else 13, 5.2))
    ax = fig.subplots()
    order = style_order()
    names = list(order) + [n for n in stats["strategy"].unique() if n not in order]
    markers = dict(zip(names, "osD^vP*Xh<>" * 3, strict=False))
    colors = {n: f"C{i % 10}" for i, n in enumerate(names)}  # same colour in every figure
    zero_label_styles = iter([("--", "grey"), ("-.", "black"), (":", "grey")] * 3)
    for name, group in stats.groupby("strategy", sort=False):
        group = group.sort_values("n_train")
        if (group["n_train"] == 0).all():
            style, color = next(zero_label_styles)
            ax.axhline(group["accuracy"].mean(), ls=style, color=color, lw=1.2,
                       label=f"{name} (0 labels)")
            continue
        dashed = name not in base_using_names() and name != REFERENCE
        line, = ax.plot(group["n_train"], group["accuracy"], marker=markers[name],
                        ls=":" if dashed else "-", label=name, color=colors[name])
        ax.fill_between(group["n_train"], group["accuracy"] - group["accuracy_std"],
                        group["accuracy"] + group["accuracy_std"], alpha=0.15,
                        color=line.get_color())
    ax.set_xscale("log")
    sizes = sorted(stats.loc[stats["n_train"] > 0, "n_train"].unique())
    ax.set_xticks(sizes)
    ax.set_xticklabels([f"{n:,}" for n in sizes])
    ax.minorticks_off()
    ax.set_xlabel("labelled target rows (log scale)")
    ax.set_ylabel("test accuracy (mean ± std over seeds)")
    runs = int(stats["runs"].max()) if len(stats) else 0
    ax.set_title(title or f"Learning curve ({runs} seeds)")
    ax.grid(alpha=0.3)
    entries = len(ax.get_legend_handles_labels()[1])  # past ~16 a column runs off the figure
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9 if entries <= 16 else 8,
              borderaxespad=0, ncol=1 if entries <= 16 else 2)  # off the points
    fig.tight_layout()
    return save_figure(fig, path, overwrite=overwrite)


def plot_history(history: list[dict], path: str | os.PathLike, title: str = "training",
                 best_epoch: int | None = None, overwrite: bool = False) -> str:
    """The training history on one axis pair: training and validation loss on the left axis,
    validation accuracy on the right, the kept epoch (`best_epoch`) marked."""
    from matplotlib.figure import Figure

    frame = pd.DataFrame(history)
    fig = Figure(figsize=(7, 4.2))
    ax = fig.subplots()
    ax.plot(frame["epoch"], frame["train_loss"], marker="o", color="C0", label="training loss")
    lines = ax.get_lines()
    if "val_loss" in frame:
        lines += ax.plot(frame["epoch"], frame["val_loss"], marker="s", color="C1",
                         label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    if "val_accuracy" in frame:
        right = ax.twinx()
        lines += right.plot(frame["epoch"], frame["val_accuracy"], marker="^", ls="--",
                            color="C2", label="validation accuracy")
        right.set_ylabel("validation accuracy")
    if best_epoch is not None:
        ax.axvline(best_epoch, color="grey", ls=":", lw=1.2)
        lines.append(ax.plot([], [], color="grey", ls=":", label=f"kept epoch ({best_epoch})")[0])
    ax.set_xticks(frame["epoch"])
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="upper center", fontsize=8,
              bbox_to_anchor=(0.5, -0.16), ncol=len(lines), frameon=False)
    fig.tight_layout()
    return save_figure(fig, path, overwrite=overwrite)


def curve_table(curve: pd.DataFrame) -> str:
    """Markdown: accuracy mean +- std, one row per strategy, one column per n_train; a
    transfer strategy below scratch at some n_train is marked with a ``!``."""
    stats = mark_negative_transfer(summarise(curve))
    sizes = sorted(stats["n_train"].unique())
    header = "| strategy | " + " | ".join(f"{n:,}" for n in sizes) + " |"
    lines = [header, "| --- |" + " --- |" * len(sizes)]
    for name in stats["strategy"].unique():
        cells = []
        for n in sizes:
            row = stats[(stats.strategy == name) & (stats.n_train == n)]
            if row.empty:
                cells.append("")
                continue
            r = row.iloc[0]
            flag = " !" if r["negative_transfer"] else ""
            cells.append(f"{r['accuracy']:.3f} ± {r['accuracy_std']:.3f}{flag}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
