"""The walkthrough notebooks (notebooks/build.py writes them) run top to bottom on the blog's
pair, IMDB -> hotel reviews, with small parameters, and show what they teach: the blog's code
written out, then the package doing the same."""
import json
import re
import shutil

import pytest
from conftest import ROOT, shared_file

NOTEBOOKS = ROOT / "notebooks"
ORDER = ("01_data_pipeline_and_base_model.ipynb", "02_embeddings_freezing_and_relearning.ipynb",
         "03_baselines.ipynb", "04_going_further.ipynb")


def execute(name: str, out_dir, **parameters):
    import papermill

    output = out_dir / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(output), parameters=parameters,
                               cwd=str(NOTEBOOKS), kernel_name="python3", progress_bar=False,
                               execution_timeout=600)
    return json.loads(output.read_text())


def outputs_text(nb) -> str:
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
            parts.append("".join(out.get("data", {}).get("text/markdown", "")))
    return "\n".join(parts)


def accuracies(pattern: str, text: str) -> list[float]:
    found = re.search(pattern, text)
    assert found, pattern
    return [float(v) for v in found.groups()]


@pytest.fixture
def blog_data(tmp_path, monkeypatch):
    """The shared IMDB and hotel tables as the downloader's data folder: `get` checks their
    sha256 and uses them, with no network (papermill's kernels inherit the environment)."""
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copyfile(shared_file("imdb_reviews.csv.gz"), folder / "imdb_reviews.csv.gz")
    shutil.copyfile(shared_file("hotel_reviews_deceptive_opinion.csv.gz"),
                    folder / "hotel_reviews.csv.gz")
    monkeypatch.setenv("TRANSFERLEARN_DATA", str(folder))
    return folder


def test_notebooks_execute_in_order(tmp_path, blog_data):
    runs = tmp_path / "runs"
    base, hotel = str(runs / "imdb_base"), str(runs / "hotel")
    figure = tmp_path / "tsne.png"

    nb1 = execute(ORDER[0], tmp_path, SOURCE_ROWS=2000, MAX_LEN=100, MIN_FREQ=2, EMBED_DIM=32,
                  NUM_FILTERS=16, EPOCHS=5, OUT=base)
    text = outputs_text(nb1)
    assert "blog example: 6 tokens ['this', 'is', 'just', 'an', 'example', '.']" in text
    assert "joblib round trip: the reloaded pipeline gives the same ids" in text
    assert "package classes: the same tokens and ids on 1,000 test reviews" in text
    assert "epoch 1: loss" in text and "epoch   1  loss" in text  # both loops print epochs
    hand, package = accuracies(r"hand-written loop (0\.\d+), tl\.fit (0\.\d+)", text)
    assert hand > 0.55 and package > 0.55  # 2,000 test reviews, half of each label
    assert "save_parameters -> load_parameters: identical outputs" in text
    assert "train_base, tl.TextClassifier" in text
    assert "save_bundle -> load_bundle: the same predictions" in text
    assert (runs / "imdb_base" / "model.params").exists()

    nb2 = execute(ORDER[1], tmp_path, BASE=base, TRAIN_SIZE=200, EPOCHS=3, N_POINTS=150,
                  FIGURE=str(figure), OUT=hotel)
    text = outputs_text(nb2)
    assert "layer_output(net, X, 'pooling'): (4, 48) the same as written out" in text
    assert figure.stat().st_size > 10_000  # the t-SNE map of IMDB vs hotel reviews
    assert "after one step: embedding bit-identical (frozen), output changed: True" in text
    assert "trainable: ['output.weight', 'output.bias']" in text
    for name in ("feature extraction", "fine-tuning", "scratch"):
        accuracies(rf"{name} +test accuracy (0\.\d+)", text)
    assert "experiments.transfer" in text  # the table: written out beside the package
    assert (runs / "hotel" / "model.params").exists()

    nb3 = execute(ORDER[2], tmp_path, BASE=base, TUNED=hotel, TRAIN_SIZE=200,
                  CATBOOST_ITERATIONS=50)
    text = outputs_text(nb3)
    for row in ("tfidf-logreg", "catboost-text", "source-only (IMDB base)",
                "fine-tune (notebook 2)", "package accuracy"):
        assert row in text, row

    nb4 = execute(ORDER[3], tmp_path, BASE=base, SOURCE_ROWS=2000, TRAIN_SIZE=100, EPOCHS=2,
                  BASELINES="tfidf-logreg", CURVE_SIZES="100,300", REPEATS=1,
                  OUT=str(runs / "compare"))
    text = outputs_text(nb4)
    for row in ("auto", "prior", "blend", "fine-tune", "scratch", "tfidf-logreg"):
        assert f"| {row} | 100 |" in text, row
    assert (runs / "compare" / "curve" / "curve.csv").exists()
    assert "negative_transfer" in text
