import json
import shutil

import mxnet as mx
import numpy as np
import pytest

from transferlearn.bundle.store import export_model, load_bundle, save_bundle
from transferlearn.errors import BundleError
from transferlearn.io.manifest import file_sha256, recorded

TEXTS = ["a great film", "an awful plot", "unknown words here", ""]


def test_save_load_gives_identical_predictions(base_bundle, tmp_path):
    bundle = load_bundle(base_bundle)
    copy = tmp_path / "copy"
    save_bundle(copy, bundle.net, bundle.pipeline, bundle.labels, {"accuracy": 1.0})
    again = load_bundle(copy)
    np.testing.assert_array_equal(again.predict_proba(TEXTS), bundle.predict_proba(TEXTS))
    assert again.predict(TEXTS) == bundle.predict(TEXTS)
    assert set(again.predict(TEXTS)) <= {"negative", "positive"}
    assert sorted(p.name for p in copy.iterdir()) == [".transferlearn.json", "config.json",
                                                      "metrics.json", "model.params",
                                                      "vocab.json"]
    assert recorded(copy) == {p.name: file_sha256(p) for p in copy.iterdir()
                              if not p.name.startswith(".")}  # what the tool wrote there
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left
    config = json.loads((copy / "config.json").read_text())
    assert config["versions"]["mxnet"] == mx.__version__
    assert config["model"]["encoder"] == "mean" and config["labels"] == bundle.labels


def test_many_texts_are_scored_in_chunks_with_the_same_result(base_bundle, monkeypatch):
    """predict_proba tokenizes and scores CHUNK texts at a time (bounded memory); the
    probabilities equal those of one pass, in the texts' order."""
    bundle = load_bundle(base_bundle)
    texts = [f"{w} film {'good ' * (i % 7)}" for i, w in enumerate(["great", "awful"] * 25)]
    whole = bundle.predict_proba(texts)
    calls = []
    transform = bundle.transform
    monkeypatch.setattr(bundle, "transform", lambda t: calls.append(len(t)) or transform(t))
    monkeypatch.setattr(type(bundle), "CHUNK", 16)
    np.testing.assert_allclose(bundle.predict_proba(texts), whole, rtol=1e-6)
    assert calls == [16, 16, 16, 2]


def test_overwrite_replaces_old_bundle_only_when_complete(base_bundle, tmp_path):
    bundle = load_bundle(base_bundle)
    target = tmp_path / "b"
    save_bundle(target, bundle.net, bundle.pipeline, bundle.labels, {"v": 1})
    save_bundle(target, bundle.net, bundle.pipeline, bundle.labels, {"v": 2})
    assert json.loads((target / "metrics.json").read_text()) == {"v": 2}


def _copy(base_bundle, tmp_path):
    dst = tmp_path / "bundle"
    shutil.copytree(base_bundle, dst)
    return dst


def test_missing_bundle(tmp_path):
    with pytest.raises(BundleError, match="model bundle not found"):
        load_bundle(tmp_path / "nothing")


def _truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def _without_checksums(bundle_dir):
    config = json.loads((bundle_dir / "config.json").read_text())
    del config["sha256"], config["config_sha256"]  # as bundles written before checksums
    (bundle_dir / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / "config.json").write_text("{not json"), "corrupt config"),
    (lambda d: (d / "vocab.json").unlink(), "vocab.json missing"),
    (lambda d: (d / "vocab.json").write_text('["<pad>", "<unk>"]'),
     "vocab.json: sha256 does not match config.json"),
    (lambda d: _truncate(d / "model.params"), "model.params: sha256 does not match config.json"),
    (lambda d: (d / "model.params").unlink(), "model.params missing"),
    # bundles without recorded checksums still get the structural checks
    (lambda d: (_without_checksums(d), (d / "vocab.json").write_text('["<pad>", "<unk>"]')),
     "vocab.json has 2 tokens"),
    (lambda d: (_without_checksums(d), _truncate(d / "model.params")), "cannot load parameters"),
])
def test_damaged_bundles_are_refused_clearly(base_bundle, tmp_path, damage, message):
    bundle_dir = _copy(base_bundle, tmp_path)
    damage(bundle_dir)
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle_dir)


def test_config_records_the_sha256_of_params_and_vocabulary(base_bundle):
    import hashlib

    config = json.loads((base_bundle / "config.json").read_text())
    for name in ("model.params", "vocab.json"):
        digest = hashlib.sha256((base_bundle / name).read_bytes()).hexdigest()
        assert config["sha256"][name] == digest


@pytest.mark.filterwarnings("ignore:Cannot decide type:UserWarning")  # imports() of int32 data
def test_export_symbol_and_params(base_bundle, tmp_path):
    bundle = load_bundle(base_bundle)
    files = export_model(bundle.net, tmp_path / "deploy" / "model", seq_len=24)
    names = sorted(p.name for p in files)
    assert names == ["model-0000.params", "model-symbol.json"]
    deploy = tmp_path / "deploy"
    imported = mx.gluon.SymbolBlock.imports(str(deploy / "model-symbol.json"), ["data"],
                                            str(deploy / "model-0000.params"))
    X = mx.nd.array(bundle.transform(TEXTS), dtype="int32")
    np.testing.assert_allclose(imported(X).asnumpy(), bundle.net(X).asnumpy(), rtol=1e-5,
                               atol=1e-6)


def test_written_files_get_normal_permissions(base_bundle, tmp_path):
    import os
    import stat

    bundle = load_bundle(base_bundle)
    out = save_bundle(tmp_path / "perm", bundle.net, bundle.pipeline, bundle.labels)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((out / "config.json").stat().st_mode) == 0o666 & ~umask
