"""Strategies are registered objects: the scripts, `all`, negative-transfer flags and curve
markers come from the registry, and a new strategy is one registration."""
from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

from transferlearn import curves, strategies, workflow
from transferlearn.errors import DataError
from transferlearn.transfer import freeze


def transfer_parser():
    spec = importlib.util.spec_from_file_location("transfer_script",
                                                  ROOT / "scripts" / "transfer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_script_offers_exactly_the_registry():
    script = transfer_parser()
    assert script.strategies("all") == strategies.default_names() == (
        "scratch", "feature-extract", "fine-tune", "gradual")
    assert script.strategies(",".join(strategies.names())) == strategies.names()
    with pytest.raises(Exception, match="choose from " + ", ".join(strategies.names())):
        script.strategies("magic")
    with pytest.raises(DataError, match="unknown strategy 'magic'; choose one of scratch, "):
        strategies.get("magic")


def test_every_strategy_that_uses_the_base_is_checked_for_negative_transfer():
    assert set(curves.TRANSFER_STRATEGIES) == set(strategies.names()) - {"scratch"}
    assert {"cross-arch", "distill"} <= set(curves.TRANSFER_STRATEGIES)
    assert set(strategies.names()) <= set(curves.STYLE_ORDER)


@pytest.fixture
def probe():
    """A new strategy: the base's body frozen, its head kept, nothing else written for it."""
    strategy = strategies.register(strategies.Strategy(
        "frozen-probe", keep_head=True, setup=lambda net, options: freeze(net, "body")))
    yield strategy
    strategies.unregister("frozen-probe")


def test_a_registered_strategy_runs_with_no_other_change(probe, base_bundle, movie_slice):
    metrics = workflow.transfer(base=str(base_bundle), data=str(movie_slice), out=None,
                                strategy="frozen-probe", train_size=200, epochs=1,
                                scratch_check=True, verbose=False)
    assert metrics["strategy"] == "frozen-probe"
    assert metrics["layers"]["output.weight"] == "copied"  # keep_head: same labels
    assert metrics["frozen"] and all(n.startswith(("embedding.", "encoder."))
                                     for n in metrics["frozen"])
    assert "scratch_check" in metrics  # it uses the base, so it is compared with scratch
    with pytest.raises(ValueError, match="already registered"):
        strategies.register(probe)
