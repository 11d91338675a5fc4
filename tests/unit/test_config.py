"""Settings as dataclasses: every default in one place, the scripts' flags are the fields."""
import importlib.util
import inspect

import pytest
from conftest import ROOT

from transferlearn import config
from transferlearn.config import BaseRun, PretrainRun, TransferRun, fields

# flags that are no setting of a run: what the script does around it
SCRIPT_ONLY = {"quiet", "endpoint_url", "curve", "repeats", "curve_plot", "baselines", "tsne",
               "no_scratch_check", "target_encoder", "target_embed_dim", "target_hidden_size",
               "target_num_filters", "markdown"}
# settings whose flag has another shape: verbose is --quiet, scratch_check is
# --no-scratch-check (transfer.py checks for negative transfer unless told not to),
# target_arch is the --target-* group
OTHER_SHAPE = {"verbose", "scratch_check", "target_arch"}


def script(name):
    spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flags(name) -> dict:
    parser = script(name).build_parser()
    return {a.dest: a.default for a in parser._actions if a.dest != "help"}


@pytest.mark.parametrize("name,settings", [("train_base.py", BaseRun),
                                           ("transfer.py", TransferRun),
                                           ("pretrain.py", PretrainRun)])
def test_the_scripts_flags_are_the_settings_fields_with_their_defaults(name, settings):
    found, wanted = flags(name), fields(settings)
    assert set(found) - SCRIPT_ONLY == set(wanted) - OTHER_SHAPE
    for key in set(found) & set(wanted):
        default = wanted[key]
        if key == "strategy":  # a list of strategies: the default is the one strategy
            default = (default,)
        assert found[key] == default, key


def test_the_network_the_estimator_and_the_runs_share_the_model_defaults():
    from transferlearn import TextClassifier, experiments
    from transferlearn.sklearn import GluonTextClassifier

    model = fields(config.ModelSettings)
    net = inspect.signature(TextClassifier).parameters
    estimator = inspect.signature(GluonTextClassifier).parameters
    run = inspect.signature(experiments.train_base).parameters
    for key in ("encoder", "hidden_size", "num_filters", "dropout", "embed_dropout"):
        assert net[key].default == estimator[key].default == run[key].default == model[key]
    # None: the encoder's default; the network, built with a concrete size, takes the general one
    assert estimator["embed_dim"].default is run["embed_dim"].default is model["embed_dim"] is None
    assert net["embed_dim"].default == config.ENCODER_DEFAULTS[""]["embed_dim"]
    for key, value in fields(config.TrainingSettings).items():
        assert estimator[key if key != "epochs" else "epochs"].default == value, key


def test_settings_left_at_none_take_the_encoders_defaults_fitted_to_the_data():
    snippets = [21] * 95 + [50] * 5  # the movie snippets: 95th percentile 38-41 tokens
    cnn, chosen = config.fill_defaults(config.BaseRun(), lambda: snippets)
    assert (cnn.max_len, cnn.embed_dim, cnn.min_freq, cnn.batch_size, cnn.lr) == (
        64, 128, 1, 64, 1e-3)  # what they were before they could be None: the demo's table
    assert set(chosen) == {"max_len", "embed_dim", "min_freq", "batch_size", "lr"}
    reviews, _ = config.fill_defaults(config.BaseRun(), lambda: [5000] * 10)
    assert reviews.max_len == 256  # a sequence encoder's cost grows with every position
    lengths = list(range(1, 301))  # the 95th percentile: 285.05 tokens
    bag, _ = config.fill_defaults(config.BaseRun(encoder="ngram"), lambda: lengths)
    assert (bag.max_len, bag.embed_dim, bag.min_freq, bag.batch_size) == (320, 64, 2, 256)
    capped, _ = config.fill_defaults(config.BaseRun(encoder="ngram"), lambda: [10**6])
    short, _ = config.fill_defaults(config.BaseRun(encoder="ngram"), lambda: [3, 4])
    assert (capped.max_len, short.max_len) == (1024, 64)
    given, chosen = config.fill_defaults(config.BaseRun(encoder="ngram", max_len=50, lr=0.1),
                                         lambda: 1 / 0)  # a given setting reads no data
    assert (given.max_len, given.lr) == (50, 0.1) and "max_len" not in chosen


def test_a_run_refuses_an_unknown_setting_and_config_json_holds_the_fields(base_bundle):
    import json

    from transferlearn import experiments

    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
        experiments.train_base(epoch=3)
    assert list(inspect.signature(experiments.transfer).parameters) == list(
        fields(TransferRun))
    saved = json.loads((base_bundle / "config.json").read_text())["training"]
    assert set(saved) == set(fields(BaseRun)) - {"out", "overwrite", "verbose"}
    assert saved["embed_dim"] == 16 and saved["epochs"] == 2  # the fixture's settings


@pytest.mark.parametrize("name", ["train_base.py", "transfer.py", "pretrain.py"])
def test_help_shows_each_flags_default_once(name):
    """Every flag with a default names it in --help, once (argparse alone prints nothing for
    a flag without a help text)."""
    parser = script(name).build_parser()
    for action in parser._actions:
        if action.default in (None, False, "==SUPPRESS==") or action.dest == "help":
            continue
        text = parser._get_formatter()._expand_help(action) if action.help else ""
        assert text.count("default") == 1, (action.dest, text)


def test_ranges_fingerprints_and_inputs_are_marked_once_on_the_fields():
    import dataclasses

    from transferlearn.checks import BOUNDS, OPTIONS, flag_type
    from transferlearn.experiments.common import INPUT_ARGUMENTS, NOT_FINGERPRINTED

    seen: dict = {}
    for cls in config.SETTINGS:  # a field shared by several classes says the same in each
        for f in dataclasses.fields(cls):
            if f.metadata:
                assert seen.setdefault(f.name, dict(f.metadata)) == dict(f.metadata), f.name
    # every numeric field has a range, and the table is the fields' ranges plus the options'
    numeric = {f.name for cls in config.SETTINGS for f in dataclasses.fields(cls)
               if any(t in str(f.type) for t in ("int", "float")) and "bool" not in str(f.type)}
    assert numeric <= set(BOUNDS)
    assert BOUNDS == {**config.bounds(), **OPTIONS} and not set(OPTIONS) & set(config.bounds())
    assert set(INPUT_ARGUMENTS) == {"data", "base", "source_data", "unlabeled", "init_vectors"}
    assert {"out", "resume", "kvstore", "gpus", "data", "base"} <= set(NOT_FINGERPRINTED)
    assert not {"lr", "epochs", "encoder", "max_len", "strategy"} & set(NOT_FINGERPRINTED)
    # the range on a field is what the flag and the run check
    assert flag_type("alpha")("1") == 1.0
    with pytest.raises(Exception, match=r"in \[0, 1\]"):
        flag_type("alpha")("1.5")
