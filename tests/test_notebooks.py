"""The walkthrough notebooks run top to bottom (papermill, small parameters) without errors."""
import json

from conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"


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


def test_committed_notebooks_have_one_parameters_cell_and_outputs():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = json.loads(path.read_text())
        tagged = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == 1, path.name
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c.get("outputs") is not None for c in code)
        assert sum(bool(c.get("outputs")) for c in code) >= len(code) - 2, \
            f"{path.name}: commit it executed (make notebooks)"
        assert not any(o.get("output_type") == "error" for c in code for o in c["outputs"])


def test_notebooks_execute_in_order(tmp_path):
    runs = tmp_path / "runs"
    base, transfer = str(runs / "base"), str(runs / "transfer")
    nb1 = execute("01_preprocessing_and_base_model.ipynb", tmp_path, ENCODER="mean",
                  EMBED_DIM=16, MAX_LEN=24, EPOCHS=2, TARGET_SIZE=100, N_POINTS=60, OUT=base)
    text = outputs_text(nb1)
    for step in ("null_impute", "token2index", "padded:", "Held-out accuracy", "pooling",
                 "trainable now:", "fine-tune"):  # the blog's steps, in order, ran
        assert step in text, step
    assert "epoch   1" in text  # the training is visible, not hidden
    assert (runs / "base" / "model.params").exists()
    assert (runs / "base-amazon" / "model.params").exists()
    nb2 = execute("02_transfer.ipynb", tmp_path, BASE=base, TRAIN_SIZE=200, EPOCHS=1,
                  CURVE_SIZES="100,all", REPEATS=1, BASELINES="tfidf-logreg",
                  CURVE_STRATEGIES="fine-tune",
                  CURVE_BASELINES="none", OUT=transfer)
    text = outputs_text(nb2)
    assert "trainable now:" in text and "| fine-tune |" in text
    assert (runs / "transfer" / "curve" / "curve.csv").exists()
    nb3 = execute("03_embeddings_and_baselines.ipynb", tmp_path, BASE=base,
                  TUNED=transfer + "/fine-tune", TRAIN_SIZE=200, N_POINTS=150,
                  BASELINES="tfidf-logreg,catboost-text",
                  FIGURE=str(tmp_path / "tsne.png"))
    text = outputs_text(nb3)
    assert "base model" in text and "tfidf-logreg" in text
    assert (tmp_path / "tsne.png").stat().st_size > 10_000


def test_committed_notebooks_hold_no_credentials():
    import re

    pattern = re.compile(r"AKIA[0-9A-Z]{16}|aws_secret_access_key|AWS_SECRET_ACCESS_KEY=\S+",
                         re.IGNORECASE)
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        assert not pattern.search(path.read_text()), path.name
