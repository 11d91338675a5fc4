"""From a base model to a target: freezing, vocabulary and weight transfer, cross-architecture,
domain alignment, label shift, and the strategy registry.

Code imports from the modules; this list is the public part.
"""
from .adaptation import fit_adapted
from .crossarch import transfer_across
from .freezing import freeze, gradual_unfreezing, set_lr_mult, trainable, unfreeze
from .label_shift import adjust_priors, estimate_target_priors
from .strategies import STRATEGIES, Strategy, apply_strategy, prepare_target, register
from .weights import transfer_weights

__all__ = ["STRATEGIES", "Strategy", "adjust_priors", "apply_strategy", "estimate_target_priors",
           "fit_adapted", "freeze", "gradual_unfreezing", "prepare_target", "register",
           "set_lr_mult", "trainable", "transfer_across", "transfer_weights", "unfreeze"]
