"""The learning curve: every strategy and baseline at each number of target labels."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data.readers import DEFAULT_TARGET
from ..data.splits import split_train_test
from ..errors import DataError
from ..io.bundle import load_bundle
from ..io.storage import atomic_write, output_dir
from ..transfer.strategies import (
    STRATEGIES,
)
from ..transfer.strategies import get as get_strategy
from .common import _load, _locked, _log, _settings_line
from .curves import (
    CURVE_COLUMNS,
    curve_table,
    mark_negative_transfer,
    negative_transfer_warnings,
    plot_curve,
    summarise,
)
from .reports import BASELINES, reference_rows, run_rows
from .runs import _target_splits, transfer


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


@_locked
def learning_curve(base="runs/base", data=None, text_col=None, label_col=None,  # noqa: PLR0913
                   out="runs/curve", sizes=(100, 200, 500, 1000, None), repeats=3,
                   strategies=STRATEGIES, baselines=BASELINES, plot=None, seed=0,
                   test_size=0.2, val_size=0.15, neutral_band=0.0, truthful_only=False,
                   verbose=True, **transfer_kwargs) -> pd.DataFrame:
    """Train every strategy and baseline at each number of labelled target rows, `repeats`
    times with seeds ``seed, seed+1, ...``.

    Each repeat draws its own test split and labelled samples. Writes ``OUT/curve.csv``
    (strategy, n_train, seed, accuracy, roc_auc, seconds; rewritten after each run, so an
    interrupted curve keeps what it measured), ``OUT/curve.md`` (mean ± std table, negative
    transfer marked ``!``) and, with `plot` (a PNG path, or True for ``OUT/curve.png``), the
    figure. ``None`` in `sizes` means every labelled training row. Sizes larger than the
    training rows are skipped with a message.
    """
    settings = {k: v for k, v in locals().items() if k not in ("verbose", "transfer_kwargs")}
    _log(verbose, _settings_line("learning_curve", {**settings, **transfer_kwargs}))
    bundle = load_bundle(base)
    loaded = _load(data, DEFAULT_TARGET, text_col, label_col, neutral_band, verbose,
                   truthful_only)
    rows: list[dict] = []
    with output_dir(out, quiet=not verbose) as local:
        local.mkdir(parents=True, exist_ok=True)
        for repeat in range(repeats):
            run_seed = seed + repeat
            for size in sizes:
                splits = _curve_splits(loaded, data, size, test_size, val_size, run_seed,
                                       neutral_band, verbose)
                if splits is None:
                    continue
                with_source = not any(r["seed"] == run_seed for r in rows)
                rows += _curve_point(bundle, base, splits, strategies, baselines, run_seed,
                                     verbose, with_source, transfer_kwargs)
                _write_curve(local, rows)
        curve = pd.DataFrame(rows, columns=CURVE_COLUMNS)
        with atomic_write(local / "curve.md") as handle:
            handle.write(curve_table(curve) + "\n")
        if plot:
            plot = local / "curve.png" if plot is True else plot
            target_name = Path(str(data)).name if data else DEFAULT_TARGET
            plot_curve(curve, plot, title=f"{Path(str(base)).name} -> {target_name}: "
                                          f"{repeats} seeds")
            _log(verbose, f"learning curve figure written to {plot}")
    for line in negative_transfer_warnings(mark_negative_transfer(summarise(curve))):
        _log(True, line)
    _log(verbose, "\n" + curve_table(curve))
    return curve


def _curve_splits(loaded, data, size, test_size, val_size, seed, neutral_band, verbose):
    df, _ = loaded
    available = len(split_train_test(df, test_size, seed)[0])
    if size is not None and size > available:
        _log(verbose, f"curve: skipping {size} labelled rows (only {available} available)")
        return None
    return _target_splits(data, None, None, size, test_size, val_size, seed, neutral_band,
                          verbose, _loaded=loaded)


def _curve_point(bundle, base, splits, strategies, baselines, seed, verbose, with_source,  # noqa: PLR0913
                 transfer_kwargs) -> list[dict]:
    n_train = len(splits[1]) + len(splits[2])
    rows = [{**row, "seed": seed}
            for row in reference_rows(bundle, splits, baselines if n_train else (), seed,
                                      with_source)]
    for strategy in strategies:
        if n_train == 0 and not get_strategy(strategy).adapts:
            continue  # nothing to train on without target labels
        m = transfer(base=base, out=None, strategy=strategy, seed=seed, verbose=False,
                     _base_bundle=bundle, _splits=splits, **transfer_kwargs)
        rows += [{**row, "seed": seed} for row in run_rows(m)]
    _log(verbose, f"curve: seed {seed}, {n_train:,} labelled rows: " + ", ".join(
        f"{r['strategy']} {r['accuracy']:.3f}" for r in rows))
    return [{k: r[k] for k in CURVE_COLUMNS} for r in rows]


def _write_curve(local: Path, rows: list[dict]) -> None:
    with atomic_write(local / "curve.csv") as handle:
        pd.DataFrame(rows, columns=CURVE_COLUMNS).to_csv(handle, index=False)
