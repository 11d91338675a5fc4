"""The committed walkthrough notebooks are the ones notebooks/build.py writes, executed, with
one parameters cell (tests/integration/test_notebooks.py runs them)."""
import importlib.util
import json

from conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
ORDER = ("01_data_pipeline_and_base_model.ipynb", "02_embeddings_freezing_and_relearning.ipynb",
         "03_baselines.ipynb", "04_going_further.ipynb")


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


def test_committed_notebooks_are_the_ones_build_py_writes():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert sorted(build.NOTEBOOKS) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert tuple(build.NOTEBOOKS) == ORDER
    for name, cells in build.NOTEBOOKS.items():
        nb = json.loads((NOTEBOOKS / name).read_text())
        committed = ["".join(c["source"]) for c in nb["cells"]
                     if "injected-parameters" not in c["metadata"].get("tags", [])]
        assert committed == [source for _, source in cells], \
            f"{name}: run notebooks/build.py (then make notebooks)"
        assert "Measured run time (full pair, 2 cores):" in committed[0]
