"""The output of any named layer, and t-SNE pictures of source vs target.

Examples
--------
>>> feats = layer_output(bundle.net, bundle.transform(texts), "pooling")  # doctest: +SKIP
>>> feats.shape  # doctest: +SKIP
(len(texts), 300)
"""
from __future__ import annotations

import os

import numpy as np

from ..io.outputs import save_figure
from ..model.inference import layer_output  # noqa: F401  (its home until version 2)


def tsne_2d(features: np.ndarray, random_state: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE of `features` (rows flattened), PCA-initialised."""
    from sklearn.manifold import TSNE

    flat = features.reshape(len(features), -1)
    perplexity = min(perplexity, max(2.0, (len(flat) - 1) / 3))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state,
                learning_rate="auto").fit_transform(flat)


MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")  # one per label, told apart in grey too


def plot_domains(panels: dict, path: str | os.PathLike, random_state: int = 0,
                 verbose: bool = True, domains: tuple = ("source", "target"),
                 title: str | None = None, overwrite: bool = False) -> str:
    """Scatter t-SNE maps of source vs target features, one panel per entry of `panels`.

    Parameters
    ----------
    panels : dict
        ``{title: (source_features, source_labels, target_features, target_labels)}``.
    path : str or path
        PNG to write (atomically).
    domains : (str, str)
        The two data sets' names, for the legend (colour: data set; marker: label).
    title : str, optional
        The figure's title, e.g. ``movie_snippets -> amazon_snippets``.
    """
    # A bare Figure renders without pyplot: the user's backend (a notebook's) stays as it is.
    import pandas as pd
    import seaborn as sns
    from matplotlib.figure import Figure
    from tqdm.auto import tqdm

    fig = Figure(figsize=(6.5 * len(panels) + 1.5, 5.5))
    axes = fig.subplots(1, len(panels), squeeze=False)
    items = tqdm(panels.items(), desc="t-SNE", disable=None if verbose else True,
                 leave=False)  # no bar when output is not a terminal
    for ax, (panel, (src, src_y, tgt, tgt_y)) in zip(axes[0], items, strict=True):
        points = tsne_2d(np.concatenate([src, tgt]), random_state=random_state)
        frame = pd.DataFrame({
            "x": points[:, 0], "y": points[:, 1],
            "data": [domains[0]] * len(src) + [domains[1]] * len(tgt),
            "label": list(map(str, src_y)) + list(map(str, tgt_y)),
        })
        labels = sorted(frame["label"].unique())
        sns.scatterplot(data=frame, x="x", y="y", hue="data", style="label", s=16, alpha=0.7,
                        ax=ax, palette=dict(zip(domains, ("#1f77b4", "#ff7f0e"), strict=True)),
                        style_order=labels, markers=list(MARKERS[:len(labels)]) if len(
                            labels) <= len(MARKERS) else True)
        # the legend beside the map, never over its points
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
        ax.set_title(panel)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, overwrite=overwrite)


def proxy_a_distance(source: np.ndarray, target: np.ndarray, random_state: int = 0,
                     folds: int = 5) -> float:
    """Proxy A-distance (Ben-David et al. 2007) between two sets of feature vectors.

    A linear classifier (standardised features, L2 logistic regression) learns to tell
    source from target rows; with its cross-validated error ``e``, the distance is
    ``2 * (1 - 2 * e)``: 0 when the domains cannot be told apart, 2 when they separate
    perfectly. Both sets are cut to the same size first, so chance error is 0.5.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> a = rng.normal(size=(200, 5))
    >>> round(proxy_a_distance(a, rng.normal(size=(200, 5))), 1) <= 0.4
    True
    >>> proxy_a_distance(a, a + 10) > 1.9
    True
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = min(len(source), len(target))
    if n < folds:
        raise ValueError(f"need at least {folds} rows per domain, got {n}")
    rng = np.random.RandomState(random_state)
    src = np.asarray(source)[rng.choice(len(source), n, replace=False)]
    tgt = np.asarray(target)[rng.choice(len(target), n, replace=False)]
    X = np.vstack([src, tgt]).reshape(2 * n, -1)
    y = np.r_[np.zeros(n), np.ones(n)]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    error = 1.0 - cross_val_score(clf, X, y, cv=cv, scoring="accuracy").mean()
    return float(2.0 * (1.0 - 2.0 * min(error, 0.5)))
