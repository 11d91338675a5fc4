"""Cross-architecture transfer from the script: the layer-by-layer report and the bundle."""


def test_cross_arch_strategy_from_the_script(base_bundle, amazon_slice, tmp_path):
    import json

    from conftest import run_script

    from transferlearn.bundle.store import load_bundle

    result = run_script("transfer.py", "--base", base_bundle, "--data", amazon_slice,
                        "--strategy", "cross-arch", "--target-embed-dim", "12",
                        "--target-hidden-size", "20", "--train-size", "150", "--epochs", "2",
                        "--no-scratch-check", "--out", tmp_path / "x")
    assert result.returncode == 0, result.stderr
    assert "cross-architecture transfer, layer by layer" in result.stdout
    metrics = json.loads((tmp_path / "x" / "metrics.json").read_text())
    report = metrics["cross_arch"]
    assert report["embedding.weight"]["action"] == "cut+mapped"  # base embed_dim 16 -> 12
    assert report["encoder.proj.weight"]["to"] == [20, 12]
    net = load_bundle(tmp_path / "x").net
    assert (net.config["embed_dim"], net.config["hidden_size"]) == (12, 20)
