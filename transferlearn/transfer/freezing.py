"""Freezing by parameter-name pattern, per-group learning rates, gradual unfreezing."""
from __future__ import annotations

import re

from ..model.network import SLOTS, TextClassifier, named_parameters

# layer groups from the top, as ULMFiT unfreezes them (pooling has no parameters)
GROUPS = ("output", "encoder", "embedding")


ALIASES = {"body": r"^(embedding|encoder)\."}


def _regex(pattern: str) -> re.Pattern:
    if pattern in SLOTS:
        return re.compile(rf"^{pattern}\.")
    return re.compile(ALIASES.get(pattern, pattern))


def select(net, pattern: str) -> dict:
    """Parameters whose structural name matches `pattern` (a slot name, ``body`` or a regex).

    Raises
    ------
    ValueError
        If nothing matches (a typo should not silently freeze nothing).
    """
    regex = _regex(pattern)
    chosen = {n: p for n, p in named_parameters(net).items() if regex.search(n)}
    if not chosen:
        names = ", ".join(named_parameters(net))
        raise ValueError(f"no parameter matches {pattern!r}; parameters: {names}")
    return chosen


def _set_grad_req(net, pattern: str, grad_req: str) -> list[str]:
    chosen = select(net, pattern)
    for param in chosen.values():
        param.grad_req = grad_req
    net._clear_cached_op()  # cached graphs were built with the old gradient requests
    return list(chosen)


def freeze(net, pattern: str) -> list[str]:
    """Stop training the matching parameters; returns their names.

    Examples
    --------
    >>> freeze(net, "embedding")  # doctest: +SKIP
    ['embedding.weight']
    """
    return _set_grad_req(net, pattern, "null")


def unfreeze(net, pattern: str) -> list[str]:
    """Train the matching parameters again; returns their names."""
    return _set_grad_req(net, pattern, "write")


def set_lr_mult(net, pattern: str, lr_mult: float) -> list[str]:
    """Scale the learning rate of the matching parameters (discriminative learning rates)."""
    chosen = select(net, pattern)
    for param in chosen.values():
        param.lr_mult = lr_mult
    return list(chosen)


def trainable(net) -> list[str]:
    """Names of the parameters that training will update."""
    return [n for n, p in named_parameters(net).items() if p.grad_req != "null"]


def gradual_unfreezing(net: TextClassifier, factor: float = 2.6) -> dict[int, str]:
    """Prepare ULMFiT-style gradual unfreezing with discriminative learning rates.

    Freezes everything but the output layer and gives each lower group a learning rate
    `factor` times smaller than the group above (output 1, encoder 1/2.6, embedding 1/2.6²).
    Returns ``{epoch: group}``: the group to unfreeze at the start of that epoch (encoder at
    epoch 2, embedding at epoch 3), for :func:`unfreeze_schedule`.
    """
    if factor <= 0:
        raise ValueError(f"the discriminative factor must be positive, got {factor}")
    unfreeze(net, ".")
    for depth, group in enumerate(GROUPS):
        set_lr_mult(net, group, factor ** -depth)
    freeze(net, "body")
    return {epoch: group for epoch, group in enumerate(GROUPS[1:], start=2)}


def unfreeze_schedule(schedule: dict[int, str]):
    """An ``epoch_start`` callback for :func:`~transferlearn.train.fit` that unfreezes
    ``schedule[epoch]`` when that epoch begins."""
    def epoch_start(net, epoch: int) -> None:
        if epoch in schedule:
            unfreeze(net, schedule[epoch])

    return epoch_start
