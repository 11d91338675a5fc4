import numpy as np
import pytest

from transferlearn.bundle.store import load_bundle
from transferlearn.experiments.embeddings import plot_domains
from transferlearn.model.inference import layer_output, predict_logits

TEXTS = ["a great film", "an awful plot", "so so", "loved it", "hated it", "fine"]


def test_every_layer_has_its_shape(base_bundle):
    bundle = load_bundle(base_bundle)
    X = bundle.transform(TEXTS)
    shapes = {layer: layer_output(bundle.net, X, layer, batch_size=4).shape
              for layer in ("embedding", "encoder", "pooling", "output")}
    assert shapes == {"embedding": (6, 24, 16), "encoder": (6, 24, 16), "pooling": (6, 16),
                      "output": (6, 2)}
    np.testing.assert_allclose(layer_output(bundle.net, X, "output"),
                               predict_logits(bundle.net, X), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown layer"):
        layer_output(bundle.net, X, "decoder")


def test_tsne_plot_is_written(tmp_path):
    rng = np.random.RandomState(0)
    panels = {"demo": (rng.randn(30, 5), ["a"] * 30, rng.randn(30, 5) + 3, ["b"] * 30)}
    path = plot_domains(panels, tmp_path / "img" / "tsne.png", verbose=False)
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_tsne_names_the_data_sets_marks_labels_apart_and_keeps_the_legend_off_the_map(
        tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    saved = {}
    real_savefig = Figure.savefig

    def keep(fig, *args, **kwargs):
        saved["fig"] = fig
        return real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    rng = np.random.RandomState(0)
    labels = ["neg", "pos"] * 15
    panels = {"base": (rng.randn(30, 5), labels, rng.randn(30, 5) + 3, labels)}
    plot_domains(panels, tmp_path / "t.png", verbose=False,
                 domains=("movie_snippets", "amazon_snippets"),
                 title="movie_snippets -> amazon_snippets")
    fig = saved["fig"]
    ax = fig.axes[0]
    assert fig._suptitle.get_text() == "movie_snippets -> amazon_snippets"
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert {"movie_snippets", "amazon_snippets", "neg", "pos"} <= set(texts)
    assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1  # beside the axes
    points = max(ax.collections, key=lambda c: len(c.get_offsets()))  # the 60 points
    shapes = {tuple(map(tuple, path.vertices.round(3))) for path in points.get_paths()}
    assert len(points.get_offsets()) == 60 and len(shapes) == 2  # a marker shape per label
