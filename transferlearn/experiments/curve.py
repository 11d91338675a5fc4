"""The learning curve: every strategy and baseline at each number of target labels."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..bundle.store import load_bundle
from ..config import TransferRun
from ..data.loading import data_name, load_settings_data
from ..data.readers import DEFAULT_TARGET
from ..data.splits import split_train_test
from ..errors import DataError
from ..io.storage import atomic_write, output_dir
from ..log import logger, verbosity, warn
from ..transfer.strategies import STRATEGIES, canonical
from ..transfer.strategies import get as get_strategy
from .common import locked, settings_line
from .curves import (
    CURVE_COLUMNS,
    curve_table,
    mark_negative_transfer,
    negative_transfer_warnings,
    plot_curve,
    summarise,
)
from .reports import BASELINES, reference_rows, run_rows
from .target import run_strategy, splits_for


def parse_sizes(text: str) -> list:
    """``"0,100,500,all"`` -> ``[0, 100, 500, None]`` (None = every labelled row; 0 = no
    target label: the zero-label rows and the domain-adaptation strategies only)."""
    sizes: list[int | None] = []
    for part in str(text).split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part == "all":
            sizes.append(None)
        elif part.isdigit():
            sizes.append(int(part))
        else:
            raise DataError(f"curve sizes: {part!r} is not a number or 'all'")
    if not sizes:
        raise DataError("curve sizes: give at least one size, e.g. 100,500,all")
    return sizes


def learning_curve(base="runs/base", data=None, out="runs/curve",
                   sizes=(100, 200, 500, 1000, None), repeats=3, strategies=STRATEGIES,
                   baselines=BASELINES, plot=None, **settings) -> pd.DataFrame:
    """Train every strategy and baseline at each number of labelled target rows, `repeats`
    times with seeds ``seed, seed+1, ...``.

    `settings` are those of :func:`~transferlearn.experiments.transfer` (fields of
    :class:`~transferlearn.config.TransferRun`), shared by every run. Each repeat draws its
    own test split and labelled samples. Writes ``OUT/curve.csv`` (strategy, n_train, seed,
    accuracy, roc_auc, seconds, and what a strategy chosen by cross-validation picked;
    rewritten after each run, so an interrupted curve keeps what
    it measured), ``OUT/curve.md`` (mean ± std table, negative transfer marked ``!``) and,
    with `plot` (a PNG path, or True for ``OUT/curve.png``), the figure. ``None`` in `sizes`
    means every labelled training row. Sizes larger than the training rows are skipped with
    a message.
    """
    settings.pop("train_size", None)  # the sizes say it
    settings.setdefault("scratch_check", False)  # the curve has its own scratch rows
    run = TransferRun(base=base, data=data, out=out, **settings)
    return _learning_curve(run, sizes=list(sizes), repeats=repeats,
                           strategies=tuple(map(canonical, strategies)),
                           baselines=tuple(baselines), plot=plot)


@locked
def _learning_curve(s: TransferRun, *, sizes: list, repeats: int, strategies: tuple,
                    baselines: tuple, plot) -> pd.DataFrame:
    with verbosity(s.verbose):
        logger.info(settings_line("learning_curve", s) + f", sizes={sizes}, repeats={repeats}")
        bundle = load_bundle(s.base)
        loaded = load_settings_data(s, DEFAULT_TARGET)
        rows: list[dict] = []
        points = [(seed, size) for seed in range(s.seed, s.seed + repeats) for size in sizes]
        with output_dir(s.out, quiet=not s.verbose) as local:
            local.mkdir(parents=True, exist_ok=True)
            for i, (seed, size) in enumerate(points, 1):
                splits = _curve_splits(loaded, replace(s, seed=seed, train_size=size))
                if splits is None:
                    continue
                logger.info(f"curve point {i}/{len(points)}: seed {seed}, "
                            f"{'all' if size is None else size} labelled rows")
                with_source = not any(r["seed"] == seed for r in rows)
                rows += _curve_point(bundle, splits, replace(s, seed=seed, out=None),
                                     strategies, baselines, with_source)
                _write_curve(local, rows)
            curve = pd.DataFrame(rows, columns=CURVE_COLUMNS)
            with atomic_write(local / "curve.md") as handle:
                handle.write(curve_table(curve) + "\n")
            if plot:
                plot = local / "curve.png" if plot is True else plot
                plot_curve(curve, plot, title=f"{data_name(bundle.metrics.get('data'))} -> "
                                              f"{data_name(s.data or DEFAULT_TARGET)}: "
                                              f"{repeats} seeds", overwrite=s.overwrite)
                logger.info(f"learning curve figure written to {plot}")
        for line in negative_transfer_warnings(mark_negative_transfer(summarise(curve))):
            warn(line)
        logger.info("\n" + curve_table(curve))
        return curve


def _curve_splits(loaded, s: TransferRun):
    """The splits of one curve point, or None when it asks for more rows than there are."""
    df, _ = loaded
    available = len(split_train_test(df, s.test_size, s.seed)[0])
    if s.train_size is not None and s.train_size > available:
        logger.info(f"curve: skipping {s.train_size} labelled rows (only {available} "
                    "available)")
        return None
    return splits_for(s, loaded=loaded)


def _curve_point(bundle, splits, s: TransferRun, strategies, baselines,
                 with_source) -> list[dict]:
    n_train = splits.n_labelled
    rows = [{**row, "seed": s.seed}
            for row in reference_rows(bundle, splits, baselines if n_train else (), s.seed,
                                      with_source, s.label_shift)]
    for strategy in strategies:
        if n_train == 0 and not get_strategy(strategy).adapts:
            continue  # nothing to train on without target labels
        m = run_strategy(bundle, splits, replace(s, strategy=strategy, verbose=False))
        rows += [{**row, "seed": s.seed} for row in run_rows(m)]
    logger.info(f"curve: seed {s.seed}, {n_train:,} labelled rows: " + ", ".join(
        f"{r['strategy']} {r['accuracy']:.3f}" + (f" [{r['picked']}]" if r.get("picked") else "")
        for r in rows))
    return [{k: r.get(k, "") for k in CURVE_COLUMNS} for r in rows]


def _write_curve(local: Path, rows: list[dict]) -> None:
    with atomic_write(local / "curve.csv") as handle:
        pd.DataFrame(rows, columns=CURVE_COLUMNS).to_csv(handle, index=False)
