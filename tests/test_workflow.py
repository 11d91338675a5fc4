"""The end-to-end functions the scripts and notebooks call."""
import pandas as pd
import pytest

from transferlearn import workflow
from transferlearn.io.bundle import load_bundle


def test_transfer_to_new_label_set_replaces_the_head(base_bundle, tmp_path, capsys):
    texts = ["great phone", "broken on arrival", "it is a phone", "love it", "awful",
             "arrived tuesday"] * 10
    labels = ["pos", "neg", "neutral"] * 20
    path = tmp_path / "three.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(path, index=False)
    m = workflow.transfer(base=str(base_bundle), data=str(path), out=str(tmp_path / "t"),
                          strategy="fine-tune", epochs=1)
    assert "output layer replaced (target labels ['neg', 'neutral', 'pos']" in \
        capsys.readouterr().out
    assert m["layers"]["output.weight"] == "new" and m["layers"]["encoder.proj.weight"] == \
        "copied"
    bundle = load_bundle(tmp_path / "t")
    assert bundle.labels == ["neg", "neutral", "pos"]
    assert set(bundle.predict(["great"])) <= {"neg", "neutral", "pos"}


def test_fine_tune_keeps_the_head_when_labels_match(base_bundle, amazon_slice, tmp_path):
    m = workflow.transfer(base=str(base_bundle), data=str(amazon_slice),
                          out=str(tmp_path / "t"), strategy="fine-tune", train_size=100,
                          epochs=1, verbose=False)
    assert m["layers"]["output.weight"] == "copied"
    assert m["n_train"] + m["n_val"] == 100
    assert m["vocabulary"]["source_size"] == len(load_bundle(base_bundle).vocab)


def test_unknown_baseline_is_refused(base_bundle, amazon_slice, tmp_path):
    import pytest

    with pytest.raises(ValueError, match="unknown baseline 'svm'"):
        workflow.compare(base=str(base_bundle), data=str(amazon_slice), out=str(tmp_path),
                         strategies=(), baselines=("svm",), verbose=False)


def test_label_shift_after_a_strategy_adds_a_priors_row(base_bundle, amazon_slice):
    from transferlearn import workflow

    m = workflow.transfer(base=str(base_bundle), data=str(amazon_slice), out=None,
                          strategy="feature-extract", train_size=120, epochs=1,
                          label_shift=True, verbose=False)
    shift = m["label_shift"]
    assert set(shift) >= {"accuracy", "roc_auc", "train_priors", "target_priors"}
    assert sum(shift["target_priors"].values()) == pytest.approx(1.0, abs=1e-3)
    assert sum(shift["train_priors"].values()) == pytest.approx(1.0, abs=1e-3)
    rows = workflow.table_of_runs([m])
    assert list(rows["strategy"]) == ["feature-extract", "feature-extract+priors"]
    assert rows.loc[1, "accuracy"] == shift["accuracy"]
