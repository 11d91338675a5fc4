"""Label shift: target class priors by EM (Saerens et al. 2002) and re-weighted outputs."""
from __future__ import annotations

import numpy as np


def estimate_target_priors(proba: np.ndarray, source_priors, max_iter: int = 1000,
                           tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Re-estimate class priors on unlabelled target data by EM (Saerens et al. 2002).

    A classifier trained where the classes had priors ``p_s`` outputs posteriors ``proba`` on
    target rows. Under label shift (p(x|y) unchanged, p(y) changed), alternating
    ``posterior ∝ proba * p_t / p_s`` and ``p_t = mean(posterior)`` converges to the target
    priors. Returns ``(target_priors, adjusted_proba)``.

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    >>> priors, _ = estimate_target_priors(proba, [0.5, 0.5])
    >>> bool(priors[0] > 0.5)
    True
    """
    proba = np.asarray(proba, dtype=np.float64)
    source = np.asarray(source_priors, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(source) or len(proba) == 0:
        raise ValueError(f"proba must be (n > 0, {len(source)}); got {proba.shape}")
    if (source <= 0).any():
        raise ValueError("source priors must be positive")
    source = source / source.sum()
    target = source.copy()
    adjusted = proba
    for _ in range(max_iter):
        adjusted = adjust_priors(proba, source, target)
        new = adjusted.mean(axis=0)
        done = np.abs(new - target).max() < tol
        target = new
        if done:
            break
    return target, adjusted


def adjust_priors(proba: np.ndarray, source_priors, target_priors) -> np.ndarray:
    """Posteriors re-weighted from the source's class priors to the target's (Bayes' rule)."""
    weights = np.asarray(target_priors, np.float64) / np.asarray(source_priors, np.float64)
    adjusted = np.asarray(proba, np.float64) * weights
    return adjusted / np.clip(adjusted.sum(axis=1, keepdims=True), 1e-12, None)
