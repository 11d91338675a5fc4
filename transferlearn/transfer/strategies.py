"""Transfer strategies as registered objects: one :class:`Strategy` per name.

Every place that needs to know about strategies (the runs, ``--strategy`` choices and help,
what ``all`` means, negative-transfer flags, curve markers, the estimator's warm start) asks
this registry, and :func:`prepare_target` is the one recipe that turns a base bundle into a
target network ready to train. Adding a strategy is one :func:`register` call::

    register(Strategy("my-probe", init="weights", setup=lambda net, o: freeze(net, "body")))
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mxnet as mx
from sklearn.pipeline import Pipeline

from ..data.pipeline import fitted_pipeline, pipeline_config
from ..data.text import Vocabulary
from ..errors import DataError
from ..model.encoders import BAG_ENCODERS
from ..model.network import TextClassifier, named_parameters
from ..training.callbacks import slanted_triangular
from .crossarch import format_report, transfer_across
from .freezing import (
    freeze,
    gradual_unfreezing,
    set_lr_mult,
    trainable,
    unfreeze,
    unfreeze_schedule,
)
from .vocabulary import VocabularyReport, category_aliases, coverage, target_vocabulary
from .weights import new_target_model, transfer_weights

INITS = ("weights", "resize", "fresh")


@dataclass(frozen=True)
class Strategy:
    """What a strategy does with the base and the target network.

    Parameters
    ----------
    name : str
    in_all : bool
        Part of ``--strategy all``.
    init : {"weights", "resize", "fresh"}
        How the target network starts: the base's weights mapped onto the target vocabulary,
        the base's weights resized into a network of other sizes (cross-architecture), or
        fresh random weights.
    uses_base : bool
        Learns from the base (weights or outputs): compared with scratch for negative
        transfer, and given a scratch check.
    keep_head : bool
        Keep the base's output layer when the label sets match.
    target_sizes : bool
        The ``--target-*`` sizes shape the target network.
    own_vocabulary : bool
        The target's own vocabulary (``vocab_mode="target"``), whatever was asked.
    alignment : {"dann", "coral", "mmd"}, optional
        The training step trains on labelled source rows plus unlabelled target texts while
        aligning the two domains with this loss (see :mod:`transferlearn.adaptation`); the
        strategy may run with no target label.
    teacher : bool
        The base is a teacher: its softened outputs are training targets (distillation).
    gradual : bool
        ULMFiT's gradual unfreezing with a slanted triangular schedule.
    joint : bool
        Trains on labelled source rows plus the target rows, the target rows repeated so
        that they make ``target_share`` of the training rows (the source model as a prior).
    setup : callable
        ``setup(net, options)`` freezes layers and sets learning-rate multipliers;
        `options` holds ``body_lr_mult`` and ``head_lr_mult``.
    candidates : tuple of str
        A strategy chosen by cross-validation on the labelled target rows among these
        (``scratch``, ``fine-tune``, ``joint``, ``tfidf-logreg``, ``ensemble``, ``prior``),
        then refit on all of them (see :mod:`transferlearn.experiments.selection`).
    help : str
        One line for ``--strategy --help``.
    """

    name: str
    in_all: bool = False
    init: str = "weights"
    uses_base: bool = True
    keep_head: bool = False
    target_sizes: bool = False
    own_vocabulary: bool = False
    alignment: str | None = None
    teacher: bool = False
    gradual: bool = False
    joint: bool = False
    setup: Callable[[TextClassifier, dict], None] | None = None
    candidates: tuple = ()
    help: str = ""

    @property
    def adapts(self) -> bool:
        """Learns from unlabelled target texts (and labelled source rows)."""
        return self.alignment is not None

    @property
    def needs_labels(self) -> bool:
        """Needs labelled target rows (the adapting strategies can do without)."""
        return not self.adapts

    @property
    def step(self) -> str:
        """The training step: ``"align"``, ``"distill"`` or ``"cross-entropy"``; ``"select"``
        for a strategy chosen by cross-validation among others."""
        if self.candidates:
            return "select"
        return "align" if self.adapts else "distill" if self.teacher else "cross-entropy"


REGISTRY: dict[str, Strategy] = {}


def register(strategy: Strategy) -> Strategy:
    """Add `strategy` to the registry (its name must be new)."""
    if strategy.name in REGISTRY:
        raise ValueError(f"strategy {strategy.name!r} is already registered")
    if strategy.init not in INITS:
        raise ValueError(f"strategy {strategy.name!r}: unknown init {strategy.init!r}")
    REGISTRY[strategy.name] = strategy
    return strategy


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def get(name: str) -> Strategy:
    """The strategy called `name` (``fine_tune`` and ``Fine-Tune`` are ``fine-tune``); one
    line with the nearest name and the known ones otherwise."""
    return REGISTRY[canonical(name)]


def canonical(name) -> str:
    """The registered spelling of `name`, or :class:`DataError` (with "did you mean")."""
    text = str(name).strip()
    for candidate in (text, text.lower().replace("_", "-")):
        if candidate in REGISTRY:
            return candidate
    raise DataError(f"unknown strategy {text!r}{suggestion(text)}; choose one of "
                    f"{', '.join(names())}")


def suggestion(name: str) -> str:
    """``"; did you mean 'fine-tune'?"`` for a near miss, else empty."""
    import difflib

    close = difflib.get_close_matches(name.lower().replace("_", "-"), names(), n=1,
                                      cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def default_names() -> tuple[str, ...]:
    """What ``--strategy all`` runs."""
    return tuple(n for n, s in REGISTRY.items() if s.in_all)


def adapting_names() -> tuple[str, ...]:
    """The strategies that learn from unlabelled target texts (and can run with no label)."""
    return tuple(n for n, s in REGISTRY.items() if s.adapts)


def base_using_names() -> tuple[str, ...]:
    """The strategies that learn from the base: each is compared with scratch."""
    return tuple(n for n, s in REGISTRY.items() if s.uses_base)


def _feature_extract(net, options) -> None:
    freeze(net, "body")
    set_lr_mult(net, "output", options["head_lr_mult"])


def _body_rate(net, options) -> None:
    set_lr_mult(net, "body", options["body_lr_mult"])


register(Strategy("scratch", in_all=True, init="fresh", uses_base=False, own_vocabulary=True,
                  help="a fresh network on the target's own vocabulary (the reference)"))
register(Strategy("feature-extract", in_all=True, setup=_feature_extract,
                  help="the base's body frozen, a new head trained"))
register(Strategy("fine-tune", in_all=True, keep_head=True, setup=_body_rate,
                  help="everything trains, the body at --body-lr-mult"))
register(Strategy("gradual", in_all=True, keep_head=True, gradual=True,
                  help="ULMFiT: gradual unfreezing, discriminative rates, slanted triangular"))
register(Strategy("cross-arch", init="resize", keep_head=True, target_sizes=True,
                  setup=_body_rate, help="the base resized into the --target-* sizes, "
                                         "fine-tuned"))
register(Strategy("distill", init="fresh", target_sizes=True, teacher=True,
                  help="--base is the teacher, a fresh --target-* student learns its outputs"))
for _name, _how in (("dann", "an adversarial domain classifier"),
                    ("coral", "feature covariances"), ("mmd", "maximum mean discrepancy")):
    register(Strategy(_name, alignment=_name, setup=_body_rate,
                      help=f"fine-tune on source rows + target texts, aligning {_how}"))

register(Strategy("joint", keep_head=True, setup=_body_rate, joint=True,
                  help="fine-tune on labelled source rows + the target rows, the target "
                       "weighted up to --target-share of the rows"))
register(Strategy("ensemble", in_all=True, keep_head=True, setup=_body_rate,
                  candidates=("ensemble",),
                  help="fine-tune averaged with TF-IDF + LR, the weight and the epochs chosen "
                       "by cross-validation on the labelled rows"))
register(Strategy("prior", in_all=True, keep_head=True, setup=_body_rate,
                  candidates=("prior",),
                  help="fine-tune averaged with TF-IDF + LR that takes source models' logits "
                       "as inputs; weights and epochs chosen by cross-validation"))
register(Strategy("blend", in_all=True, keep_head=True, setup=_body_rate,
                  candidates=("blend",),
                  help="fine-tune, TF-IDF + LR and the prior model averaged, the three "
                       "weights and the epochs chosen by cross-validation"))
register(Strategy("auto", in_all=True, keep_head=True, setup=_body_rate,
                  candidates=("scratch", "fine-tune", "tfidf-logreg", "ensemble", "prior",
                              "blend"),
                  help="k-fold cross-validation on the labelled rows picks scratch, fine-tune,"
                       " TF-IDF + LR, the ensemble, the prior or the blend, then refits it on "
                       "all of them"))

# The strategy every one that uses the base is compared with (negative transfer).
REFERENCE = "scratch"

# Names kept from version 1 (the registry is the source; these are its state at import).
STRATEGIES = default_names()


def apply_strategy(net: TextClassifier, strategy: str, body_lr_mult: float = 0.5,
                   head_lr_mult: float = 10.0, discriminative_factor: float = 2.6) -> dict:
    """Set which layers train, and at what rate, for a transfer strategy (its ``setup``).

    - ``scratch``, ``distill``: everything trains at the learning rate.
    - ``feature-extract``: embedding and encoder frozen; only the new output layer trains, at
      ``head_lr_mult`` times the learning rate (a linear probe needs a larger step: measured
      on the bundled data at 500 labels, 0.64-0.67 accuracy with x10 vs 0.60-0.67 with x1).
    - ``fine-tune``, ``cross-arch``, ``dann``, ``coral``, ``mmd``: everything trains;
      embedding and encoder at ``body_lr_mult`` times the learning rate.
    - ``gradual``: ULMFiT's recipe (see :func:`~transferlearn.transfer.gradual_unfreezing`):
      the output layer trains first, the encoder joins at epoch 2 and the embedding at epoch
      3, each lower group at a rate `discriminative_factor` times smaller; pair it with a
      slanted triangular schedule.

    Returns ``{"trainable": [...], "frozen": [...]}`` (as of the first epoch), plus
    ``"unfreeze_at"`` (``{epoch: group}``) for gradual strategies.
    """
    chosen = get(strategy)
    unfreeze(net, ".")
    set_lr_mult(net, ".", 1.0)
    if chosen.setup is not None:
        chosen.setup(net, {"body_lr_mult": body_lr_mult, "head_lr_mult": head_lr_mult})
    schedule = gradual_unfreezing(net, discriminative_factor) if chosen.gradual else None
    frozen = [n for n in named_parameters(net) if n not in trainable(net)]
    result: dict = {"trainable": trainable(net), "frozen": frozen}
    if schedule is not None:
        result["unfreeze_at"] = schedule
    return result


@dataclass
class Target:
    """A target network ready to train, and how it came from the base (see
    :func:`prepare_target`)."""

    strategy: Strategy
    net: TextClassifier
    pipeline: Pipeline  # the fitted text pipeline
    vocab: Vocabulary
    vocabulary: VocabularyReport
    layers: dict  # {parameter: "copied" | "mapped" | "new" | cross-arch action}
    setup: dict  # apply_strategy's result: trainable, frozen (, unfreeze_at)
    cross_arch: dict | None = None  # the cross-architecture report, layer by layer
    notes: tuple[str, ...] = ()  # what a run logs about the preparation

    def schedules(self) -> dict:
        """The trainer settings of :func:`~transferlearn.train.fit` for this strategy: the
        gradual-unfreezing callback and the slanted triangular schedule (or None)."""
        schedule = self.setup.get("unfreeze_at")
        return {"epoch_start": unfreeze_schedule(schedule) if schedule else None,
                "lr_schedule": slanted_triangular() if schedule else None}


def _from_weights(bundle, net, vocab, labels, chosen, options):
    """The base's weights, the embedding mapped by token; a new head unless kept."""
    layers = transfer_weights(bundle.net, net, bundle.vocab, vocab, bundle.labels, labels,
                              keep_head=chosen.keep_head,
                              aliases=category_aliases(options["category_map"]))
    notes = []
    if layers.get("output.weight") == "new":
        why = (f"{chosen.name} trains a new head" if not chosen.keep_head else
               f"target labels {labels} differ from the base's {bundle.labels}")
        notes.append(f"output layer replaced ({why})")
    return layers, None, notes


def _resized(bundle, net, vocab, labels, chosen, options):
    """The base's weights cut, pooled or padded into a network of other sizes."""
    cross = transfer_across(bundle.net, net, bundle.vocab, vocab, bundle.labels, labels,
                            keep_head=chosen.keep_head, seed=options["seed"] or 0)
    return ({name: r["action"] for name, r in cross.items()}, cross,
            ["cross-architecture transfer, layer by layer:\n" + format_report(cross)])


def _fresh(bundle, net, vocab, labels, chosen, options):
    """Nothing from the base: the network stays as initialised."""
    return {name: "new" for name in named_parameters(net)}, None, []


_INITIALISERS = {"weights": _from_weights, "resize": _resized, "fresh": _fresh}


def prepare_target(bundle, strategy: str | Strategy, texts, labels, *, vocab_mode="extend",  # noqa: PLR0913
                   target_arch=None, category_map=None, seed=None, body_lr_mult=0.5,
                   head_lr_mult=10.0, discriminative_factor=2.6) -> Target:
    """The one transfer recipe: from a base bundle to a target network ready to train.

    The target vocabulary is built from `texts` (the base's tokens plus the new ones, or the
    target's own with ``vocab_mode="target"`` or a strategy that owns its vocabulary); a
    network with the base's architecture (and `target_arch` sizes, for strategies that take
    them) is initialised as the strategy says (base weights, resized, or fresh; seeded with
    `seed` when given); then the strategy freezes layers and sets learning rates.

    >>> target = prepare_target(bundle, "fine-tune", texts, labels)  # doctest: +SKIP
    >>> fit(target.net, target.pipeline.transform(texts), y, **target.schedules())  # doctest: +SKIP
    """
    chosen = strategy if isinstance(strategy, Strategy) else get(strategy)
    tokenized = bundle.pipeline[:-2].transform(list(texts))
    mode = "target" if chosen.own_vocabulary else vocab_mode
    vocab = target_vocabulary(bundle.vocab, tokenized, mode,
                              min_freq=bundle.config["preprocessing"].get("min_freq", 1))
    pipe = fitted_pipeline(pipeline_config(bundle.pipeline), vocab)
    token_cov, type_cov = coverage(bundle.vocab, tokenized)
    if seed is not None:
        mx.random.seed(seed)
    net = new_target_model(bundle.net, len(vocab), len(labels), **(
        (target_arch or {}) if chosen.target_sizes else {}))
    if pipeline_config(bundle.pipeline).get("ngrams", 1) > 1 and \
            net.config["encoder"] not in BAG_ENCODERS:
        raise DataError(f"the base's texts carry n-grams (a bag encoder's input); a "
                        f"{net.config['encoder']} target reads tokens in order: keep a bag "
                        f"encoder ({', '.join(BAG_ENCODERS)})")
    layers, cross, notes = _INITIALISERS[chosen.init](
        bundle, net, vocab, labels, chosen, {"category_map": category_map, "seed": seed})
    copied = 0 if layers.get("embedding.weight") == "new" else sum(  # fresh: none copied
        tok in bundle.vocab for tok in vocab.idx_to_token[2:])
    report = VocabularyReport(mode, len(bundle.vocab), len(vocab), copied,
                              len(vocab) - 2 - copied, token_cov, type_cov)
    setup = apply_strategy(net, chosen.name, body_lr_mult=body_lr_mult,
                           head_lr_mult=head_lr_mult,
                           discriminative_factor=discriminative_factor)
    if setup.get("unfreeze_at"):
        notes.append("gradual unfreezing: " + ", ".join(
            f"{group} from epoch {epoch}" for epoch, group in setup["unfreeze_at"].items()) +
            f"; learning rates / {discriminative_factor} per group down; slanted triangular")
    return Target(chosen, net, pipe, vocab, report, layers, setup, cross, tuple(notes))
