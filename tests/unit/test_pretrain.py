"""Token vectors: skip-gram pretraining on unlabelled text (gensim), vectors files read with
gluonnlp's TokenEmbedding, and the base's embedding started from them (coverage reported)."""
import json

import mxnet as mx
import numpy as np
import pandas as pd
import pytest
from conftest import toy_texts

from transferlearn.data.text import Vocabulary
from transferlearn.errors import DataError
from transferlearn.model.network import TextClassifier, named_parameters
from transferlearn.model.vectors import init_embedding, load_vectors, token_counts

VECTORS = {"good": [1.0, 0.0, 2.0], "film": [0.0, 4.0, 2.0], "bad": [-1.0, -1.0, -1.0]}


def _vec_file(path, header=True):
    lines = [f"{len(VECTORS)} 3"] if header else []
    lines += [f"{tok} " + " ".join(map(str, v)) for tok, v in VECTORS.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("header", [True, False], ids=["word2vec", "glove"])
def test_vectors_fill_the_known_tokens_and_ngrams_start_at_their_words_mean(tmp_path, header):
    vocab = Vocabulary(["<pad>", "<unk>", "good", "film", "good film", "hotel", "bad hotel"])
    mx.random.seed(0)
    net = TextClassifier(len(vocab), 2, embed_dim=3, encoder="ngram")
    net.initialize(mx.init.Xavier())
    before = named_parameters(net)["embedding.weight"].data().asnumpy()
    X = np.array([[2, 3, 4, 5, 0], [2, 6, 0, 0, 0]])  # good x2, film, good film, hotel, bad hotel
    report = init_embedding(net, vocab, load_vectors(_vec_file(tmp_path / "v.vec", header)),
                            token_counts(X, len(vocab)), path="v.vec")
    table = named_parameters(net)["embedding.weight"].data().asnumpy()
    np.testing.assert_allclose(table[2], VECTORS["good"])
    np.testing.assert_allclose(table[3], VECTORS["film"])
    np.testing.assert_allclose(table[4], np.mean([VECTORS["good"], VECTORS["film"]], axis=0))
    np.testing.assert_array_equal(table[[0, 1, 5, 6]], before[[0, 1, 5, 6]])  # kept random
    assert (report.found, report.from_words, report.vocab_size, report.file_tokens) == (2, 1, 5, 3)
    assert report.type_coverage == pytest.approx(2 / 5)
    assert report.token_coverage == pytest.approx(4 / 6)  # good x2, film, good film of 6
    assert "2 of 5 vocabulary tokens found" in str(report)


def test_bad_vectors_are_one_clear_error(tmp_path):
    net = TextClassifier(4, 2, embed_dim=5, encoder="mean")
    net.initialize()
    vocab = Vocabulary(["<pad>", "<unk>", "good", "film"])
    with pytest.raises(DataError, match="have 3 dimensions but the network's embedding has 5; "
                                        "pass --embed-dim 3"):
        init_embedding(net, vocab, load_vectors(_vec_file(tmp_path / "v.vec")))
    (tmp_path / "ragged.vec").write_text("good 1 2 3\nfilm 1 2\n")
    with pytest.raises(DataError, match="ragged.vec is not a vectors file"):
        load_vectors(tmp_path / "ragged.vec")
    (tmp_path / "run").mkdir()
    with pytest.raises(DataError, match="a directory without vectors.vec"):
        load_vectors(tmp_path / "run")


def test_pretrain_learns_vectors_from_several_sources_that_a_base_starts_from(tmp_path):
    from transferlearn.experiments import pretrain, train_base

    texts, labels = toy_texts(300)
    (tmp_path / "a.txt").write_text("\n".join(texts[:200]) + "\n")
    pd.DataFrame({"review": texts[200:]}).to_csv(tmp_path / "b.csv", index=False)
    summary = pretrain(data=f"{tmp_path / 'a.txt'},{tmp_path / 'b.csv'}", embed_dim=8,
                       min_count=1, epochs=2, workers=1, out=str(tmp_path / "vec"),
                       verbose=False)
    assert list(summary["sources"].values()) == [200, 100]
    assert summary["tokens"] == sum(len(t.split()) for t in texts)
    saved = json.loads((tmp_path / "vec" / "pretrain.json").read_text())
    assert saved["vectors"] == summary["vectors"] == 10  # 3 + 3 class words, 4 fillers
    header = (tmp_path / "vec" / "vectors.vec").read_text().splitlines()[0]
    assert header == "10 8"
    vectors = load_vectors(tmp_path / "vec")
    metrics = train_base(data=pd.DataFrame({"text": texts, "label": labels}), encoder="mean",
                         embed_dim=8, hidden_size=8, epochs=1, init_vectors=str(tmp_path / "vec"),
                         out=str(tmp_path / "base"), verbose=False)
    assert metrics["init_vectors"]["found"] == 10
    assert metrics["init_vectors"]["token_coverage"] == pytest.approx(1.0)
    from transferlearn.bundle.store import load_bundle

    bundle = load_bundle(tmp_path / "base")
    assert metrics["settings"]["init_vectors"] == str(tmp_path / "vec")
    # one epoch moved the vectors a little: still far closer to the file than to a fresh start
    row = bundle.vocab.token_to_idx["great"]
    trained = named_parameters(bundle.net)["embedding.weight"].data().asnumpy()[row]
    start = vectors.idx_to_vec[vectors.token_to_idx["great"]].asnumpy()
    assert np.abs(trained - start).max() < 0.1 * np.abs(start).max()
    # with no --embed-dim the network takes the vectors' width (the encoder's 64 would not fit)
    again = train_base(data=pd.DataFrame({"text": texts, "label": labels}), encoder="ngram",
                       epochs=1, init_vectors=str(tmp_path / "vec"), out=None, verbose=False)
    assert again["settings"]["embed_dim"] == 8 and again["init_vectors"]["found"] == 10


def test_several_sources_are_read_as_one_with_their_labels_mapped(tmp_path):
    from transferlearn.data.sources import load_sources, source_list
    from transferlearn.data.splits import split_train_test
    from transferlearn.experiments import train_base

    texts, labels = toy_texts(240)
    names = np.array(["negative", "positive"])[labels]
    short = np.array(["neg", "pos"])[labels]
    pd.DataFrame({"text": texts[:120], "sentiment": names[:120],
                  "split": ["train", "test"] * 60}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"review": texts[120:], "label": short[120:]}).to_csv(tmp_path / "b.csv",
                                                                      index=False)
    both = f"{tmp_path / 'a.csv'},{tmp_path / 'b.csv'}"
    assert source_list(both) == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    with pytest.raises(DataError, match="different labels .*--label-map"):
        load_sources(source_list(both))
    df = load_sources(source_list(both), {"neg": "negative", "pos": "positive"})
    assert df.attrs["sources"] == {str(tmp_path / "a.csv"): 120, str(tmp_path / "b.csv"): 120}
    assert sorted(df["label"].unique()) == ["negative", "positive"]
    train, test = split_train_test(df, test_size=0.25, random_state=0)
    a_test = test[test["source"] == str(tmp_path / "a.csv")]
    assert len(a_test) == 60  # a's own split column kept: its 60 test rows
    assert len(test) - len(a_test) == 30  # b's rows split stratified, a quarter held out
    metrics = train_base(data=both, label_map={"neg": "negative", "pos": "positive"},
                         encoder="mean", embed_dim=8, hidden_size=8, epochs=1,
                         out=str(tmp_path / "base"), verbose=False)
    assert metrics["sources"] == df.attrs["sources"] and metrics["labels"] == ["negative",
                                                                               "positive"]
    assert metrics["n_test"] == 60 + 24  # a's test rows, 20% of b (the default test_size)
    # the base's own rows, read again for joint training and for the t-SNE sample, come back
    # through the same sources and label map
    from transferlearn.bundle.store import load_bundle
    from transferlearn.experiments import source_sample, transfer

    base = load_bundle(tmp_path / "base")
    assert set(source_sample(base, 50)["label"]) == {"negative", "positive"}
    target = pd.DataFrame({"text": texts, "label": names})
    m = transfer(base=str(tmp_path / "base"), data=target, strategy="joint", train_size=40,
                 epochs=1, source_rows=100, out=None, verbose=False)
    assert m["joint"]["source_rows"] == 100
