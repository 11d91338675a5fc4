"""Untrusted bundles and checkpoints are safe to load: whatever their JSON holds, loading
succeeds or raises the package's own one-line error, fast; links, devices and huge files are
refused before reading; a tokenizer regex from a bundle runs on RE2, in linear time, or is
refused."""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_checkpoint import SETTINGS, Killed, _fit, _net, _toy

from transferlearn.bundle.schema import config_digest
from transferlearn.bundle.store import load_bundle
from transferlearn.errors import BundleError, TransferLearnError
from transferlearn.io.checkpoint import Checkpointer, fingerprint

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
    | st.text(max_size=20) | st.sampled_from([10**12, 2**31, -1, 0, 1, "mean", "<pad>"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=8)


def reseal(bundle: Path, config: dict) -> None:
    """Record the current digests, so that validation, not integrity, is what is tested."""
    config["sha256"] = {name: hashlib.sha256((bundle / name).read_bytes()).hexdigest()
                        for name in ("model.params", "vocab.json")}
    config["config_sha256"] = config_digest(config)
    (bundle / "config.json").write_text(json.dumps(config))


def paths(config: dict, prefix=()):
    """Every (path of keys) in the config, to pick one to mutate."""
    for key, value in config.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from paths(value, (*prefix, key))


def must_load_or_refuse(bundle: Path) -> None:
    start = time.monotonic()
    try:
        load_bundle(bundle)
    except TransferLearnError as exc:
        assert "\n" not in str(exc)
    assert time.monotonic() - start < 8


@pytest.fixture(scope="module")
def pristine(base_bundle):
    return json.loads((base_bundle / "config.json").read_text())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_config_json_loads_or_gives_one_line(base_bundle, pristine, tmp_path_factory,
                                                 data):
    bundle = tmp_path_factory.mktemp("b") / "bundle"
    shutil.copytree(base_bundle, bundle)
    config = json.loads(json.dumps(pristine))
    where = data.draw(st.sampled_from(sorted(paths(config))))
    parent = config
    for key in where[:-1]:
        parent = parent[key]
    if data.draw(st.booleans()):
        del parent[where[-1]]
    else:
        parent[where[-1]] = data.draw(JSON)
    reseal(bundle, config)
    must_load_or_refuse(bundle)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(tokens=st.one_of(JSON, st.lists(st.text(max_size=3), min_size=2, max_size=60)),
       duplicate=st.booleans())
def test_any_vocab_json_loads_or_gives_one_line(base_bundle, pristine, tmp_path_factory,
                                                tokens, duplicate):
    bundle = tmp_path_factory.mktemp("v") / "bundle"
    shutil.copytree(base_bundle, bundle)
    if duplicate:  # the right length, one token twice
        tokens = json.loads((bundle / "vocab.json").read_text())
        tokens[-1] = tokens[2]
    (bundle / "vocab.json").write_text(json.dumps(tokens))
    reseal(bundle, json.loads(json.dumps(pristine)))
    must_load_or_refuse(bundle)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A real checkpoint of a small run killed after its first epoch."""
    X, y, vocab = _toy()
    directory = tmp_path_factory.mktemp("ckpt")
    with pytest.raises(Killed):
        _fit(_net(vocab), X, y, Checkpointer(directory, fingerprint(X, y, SETTINGS)),
             kill_after=1)
    return directory, X, y, vocab


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_state_json_resumes_or_gives_one_line(checkpoint, tmp_path_factory, data):
    source, X, y, vocab = checkpoint
    directory = tmp_path_factory.mktemp("c") / "ckpt"
    shutil.copytree(source, directory)
    state_file = directory / "epoch-0001" / "state.json"
    state = json.loads(state_file.read_text())
    key = data.draw(st.sampled_from(sorted(state)))
    if key == "optimizer" and data.draw(st.booleans()):
        inner = data.draw(st.sampled_from(sorted(state["optimizer"])))
        state["optimizer"][inner] = data.draw(JSON)
    elif data.draw(st.booleans()):
        del state[key]
    else:
        state[key] = data.draw(JSON)
    state_file.write_text(json.dumps(state))
    start = time.monotonic()
    try:
        _fit(_net(vocab), X, y, Checkpointer(directory, fingerprint(X, y, SETTINGS)),
             resume=True)
    except TransferLearnError as exc:
        assert "\n" not in str(exc)
    assert time.monotonic() - start < 30


def edit(bundle: Path, change) -> None:
    config = json.loads((bundle / "config.json").read_text())
    change(config)
    reseal(bundle, config)


@pytest.mark.parametrize("change,message", [
    (lambda c: c["preprocessing"].update(max_len=10**12),
     "config.json: max_len must be an integer in [1, 10,000], got 1000000000000"),
    (lambda c: c["model"].update(embed_dim=10**6),
     "config.json: embed_dim must be an integer in [1, 8,192], got 1000000"),
    (lambda c: c["model"].update(params={"shared": 1}),
     "config.json: model: unknown fields ['params']"),
    (lambda c: c["preprocessing"].update(pattern=r"(a)\1|\w+"),
     "config.json: pattern '(a)\\\\1|\\\\w+' cannot run in linear time (RE2: invalid escape "
     "sequence: \\1); backreferences and lookaround are not supported"),
    (lambda c: c["preprocessing"].update(split_pattern=r"(?=x)"),
     "cannot run in linear time"),
    (lambda c: c["preprocessing"].update(pattern="(unclosed"),
     "is not a valid regular expression"),
    (lambda c: c.update(labels=["pos", "pos"]), "config.json: labels must be unique"),
    (lambda c: c.update(format_version="1"), "format_version must be an integer"),
    (lambda c: c.update(training={"data": ["/etc"]}), "training.data must be a string"),
])
def test_hostile_fields_are_refused_in_one_line(base_bundle, tmp_path, change, message):
    bundle = tmp_path / "bundle"
    shutil.copytree(base_bundle, bundle)
    edit(bundle, change)
    start = time.monotonic()
    with pytest.raises(BundleError) as caught:
        load_bundle(bundle)
    assert message in str(caught.value) and str(caught.value).startswith(str(bundle))
    assert time.monotonic() - start < 8


def test_config_json_content_is_covered_by_integrity(base_bundle, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(base_bundle, bundle)
    config = json.loads((bundle / "config.json").read_text())
    config["labels"] = config["labels"][::-1]  # swaps what every prediction means
    (bundle / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match="content does not match its config_sha256"):
        load_bundle(bundle)


def test_links_and_devices_are_not_followed(base_bundle, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(base_bundle, bundle)
    (bundle / "config.json").unlink()
    (bundle / "config.json").symlink_to("/dev/zero")
    start = time.monotonic()
    with pytest.raises(BundleError, match="a link out of the bundle"):
        load_bundle(bundle)
    assert time.monotonic() - start < 2
    outside = tmp_path / "elsewhere.json"
    shutil.copy(base_bundle / "vocab.json", outside)
    shutil.copy(base_bundle / "config.json", bundle / "config.json.real")
    (bundle / "config.json").unlink()
    (bundle / "config.json.real").rename(bundle / "config.json")
    (bundle / "vocab.json").unlink()
    (bundle / "vocab.json").symlink_to(outside)
    with pytest.raises(BundleError, match="vocab.json: a link out of the bundle"):
        load_bundle(bundle)


def test_oversized_files_are_refused_before_reading(base_bundle, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(base_bundle, bundle)
    with open(bundle / "metrics.json", "wb") as handle:
        handle.truncate(65 << 20)  # sparse: 65 MiB of nothing
    with pytest.raises(BundleError, match=r"metrics.json: 68,157,440 bytes, over the"):
        load_bundle(bundle)
