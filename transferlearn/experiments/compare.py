"""Several strategies on the same splits, with baselines and a t-SNE figure."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..bundle.store import load_bundle, write_json
from ..config import TransferRun
from ..data.loading import data_name, load_data
from ..data.readers import DEFAULT_SOURCE, DEFAULT_TARGET
from ..io.storage import atomic_write, output_dir
from ..log import logger, verbosity
from ..transfer.strategies import STRATEGIES, canonical
from .common import locked
from .priors import source_data_of
from .reports import BASELINES, marked_table, reference_rows, run_rows
from .target import run_strategy, splits_for


def compare(base="runs/base", data=None, out="runs/target", strategies=STRATEGIES,
            baselines=BASELINES, tsne=None, tsne_points=600, **settings) -> pd.DataFrame:
    """Run several strategies on the same splits, plus the baselines, and tabulate them.

    `settings` are those of :func:`~transferlearn.experiments.transfer` (fields of
    :class:`~transferlearn.config.TransferRun`), shared by every strategy. Writes each
    strategy's bundle to ``OUT/<strategy>``, the table to ``OUT/comparison.csv`` and, with
    `tsne`, a t-SNE figure of source vs target features before and after fine-tuning. Rows:
    ``source-only`` (the base model as is), each of `baselines` trained on the same labelled
    rows (see :func:`~transferlearn.experiments.reports.baseline_scores`), then each
    strategy. An ``s3://`` `out` receives everything once the whole run has succeeded.
    """
    run = TransferRun(base=base, data=data, out=out, **settings)
    return _compare(run, strategies=tuple(map(canonical, strategies)),
                    baselines=tuple(baselines), tsne=tsne, tsne_points=tsne_points)


@locked
def _compare(s: TransferRun, *, strategies: tuple, baselines: tuple, tsne, tsne_points: int):
    with verbosity(s.verbose):
        bundle = load_bundle(s.base)
        splits = splits_for(s)
        rows = reference_rows(bundle, splits, baselines, seed=s.seed, label_shift=s.label_shift)
        with output_dir(s.out, quiet=not s.verbose) as local:
            for i, strategy in enumerate(strategies, 1):
                logger.info(f"strategy {i}/{len(strategies)}: {strategy}")
                m = run_strategy(bundle, splits, replace(s, strategy=strategy,
                                                         out=str(local / strategy)))
                rows += run_rows(m)
            table = marked_table(rows)
            local.mkdir(parents=True, exist_ok=True)
            with atomic_write(local / "comparison.csv") as handle:
                table.to_csv(handle, index=False)
            summary_metrics = {"comparison": rows, "n_test": len(splits.test)}
            if tsne:
                tuned = "fine-tune" if "fine-tune" in strategies else strategies[-1]
                figure = tsne_figure(bundle, load_bundle(local / tuned), splits.test,
                                     path=tsne, n=tsne_points, seed=s.seed, title=tuned,
                                     verbose=s.verbose,
                                     target_name=data_name(s.data or DEFAULT_TARGET),
                                     overwrite=s.overwrite)
                summary_metrics["a_distance"] = figure["a_distance"]
            write_json(local / "metrics.json", summary_metrics)
        return table


def source_sample(base_bundle, n: int, seed: int = 0) -> pd.DataFrame:
    """`n` rows of the data the base model was trained on (re-read as its config says, if
    it still holds what the bundle recorded: :func:`~.priors.source_data_of`)."""
    data, read = source_data_of(base_bundle, None)
    source_df, _ = load_data(data, DEFAULT_SOURCE, **read, verbose=False)
    return source_df.sample(min(n, len(source_df)), random_state=seed)


def tsne_figure(base_bundle, tuned_bundle, target: pd.DataFrame, path, n=600, seed=0,  # noqa: PLR0913
                title="transfer", verbose=True, target_name="target",
                overwrite: bool = False) -> dict:
    """t-SNE of pooled features, source vs target, from the base and the transferred model.

    Each panel's title gives the proxy A-distance of its features (see
    :func:`~transferlearn.embeddings.proxy_a_distance`): how well a linear classifier tells
    the two domains apart, 0 (indistinguishable) to 2 (separate).

    Returns ``{"path": path, "a_distance": {panel: value}}``.
    """
    from ..model.inference import layer_output
    from .embeddings import plot_domains, proxy_a_distance

    src = source_sample(base_bundle, n, seed)
    tgt = target.sample(min(n, len(target)), random_state=seed)
    panels, distances = {}, {}
    for name, b in (("base model", base_bundle), (f"after {title}", tuned_bundle)):
        f_src = layer_output(b.net, b.transform(src["text"]), "pooling")
        f_tgt = layer_output(b.net, b.transform(tgt["text"]), "pooling")
        distances[name] = round(proxy_a_distance(f_src, f_tgt, random_state=seed), 4)
        panels[f"{name}: pooled features, A-distance {distances[name]:.2f}"] = (
            f_src, src["label"].tolist(), f_tgt, tgt["label"].tolist())
    names = (data_name(base_bundle.metrics.get("data")), target_name)
    plot_domains(panels, path, random_state=seed, verbose=verbose,
                 domains=names if names[0] != names[1] else ("source", "target"),
                 title=f"{names[0]} -> {names[1]}", overwrite=overwrite)
    logger.info("proxy A-distance source vs target (0 = alike, 2 = separable): " +
         ", ".join(f"{k} {v:.2f}" for k, v in distances.items()))
    logger.info(f"t-SNE figure written to {path}")
    return {"path": str(path), "a_distance": distances}
