import mxnet as mx
import numpy as np
import pytest

from transferlearn.data.text import Vocabulary
from transferlearn.model.network import TextClassifier, named_parameters
from transferlearn.transfer.freezing import freeze, select, set_lr_mult, trainable, unfreeze
from transferlearn.transfer.strategies import apply_strategy
from transferlearn.transfer.vocabulary import coverage, map_embeddings, target_vocabulary
from transferlearn.transfer.weights import new_target_model, transfer_weights

SOURCE_VOCAB = Vocabulary(["<pad>", "<unk>", "good", "bad", "film", "plot"])


def _source(num_classes=2):
    mx.random.seed(1)
    net = TextClassifier(len(SOURCE_VOCAB), num_classes, embed_dim=4, encoder="cnn",
                         num_filters=3)
    net.initialize(mx.init.Xavier())
    return net


def test_freeze_unfreeze_by_slot_and_regex():
    net = _source()
    assert freeze(net, "embedding") == ["embedding.weight"]
    assert "embedding.weight" not in trainable(net)
    frozen = freeze(net, r"convs\.1\.")
    assert frozen == ["encoder.convs.1.weight", "encoder.convs.1.bias"]
    unfreeze(net, "body")
    assert trainable(net) == list(named_parameters(net))
    with pytest.raises(ValueError, match="no parameter matches 'decoder'"):
        select(net, "decoder")


def test_lr_mult_is_set_per_parameter():
    net = _source()
    set_lr_mult(net, "body", 0.25)
    params = named_parameters(net)
    assert params["embedding.weight"].lr_mult == 0.25
    assert params["output.weight"].lr_mult == 1.0


def test_target_vocabulary_modes_and_coverage():
    docs = [["good", "hotel"], ["room", "good", "room"]]
    extended = target_vocabulary(SOURCE_VOCAB, docs, "extend")
    assert extended.idx_to_token == SOURCE_VOCAB.idx_to_token + ["room", "hotel"]
    own = target_vocabulary(SOURCE_VOCAB, docs, "target")
    assert own.idx_to_token == ["<pad>", "<unk>", "good", "room", "hotel"]  # ties: alphabetical
    token_cov, type_cov = coverage(SOURCE_VOCAB, docs)
    assert token_cov == pytest.approx(2 / 5) and type_cov == pytest.approx(1 / 3)


def test_map_embeddings_copies_exactly_the_shared_rows():
    rng = np.random.RandomState(0)
    source_weight = rng.randn(len(SOURCE_VOCAB), 4).astype(np.float32)
    target = Vocabulary(["<pad>", "<unk>", "room", "film", "good", "hotel"])
    weight, copied = map_embeddings(source_weight, SOURCE_VOCAB, target)
    assert copied == 2
    np.testing.assert_array_equal(weight[3], source_weight[4])  # film
    np.testing.assert_array_equal(weight[4], source_weight[2])  # good
    np.testing.assert_array_equal(weight[:2], source_weight[:2])  # specials
    mean = source_weight[2:].mean(axis=0)
    np.testing.assert_allclose(weight[2], mean)
    np.testing.assert_allclose(weight[5], mean)


def test_transfer_weights_copies_body_and_reorders_head():
    source = _source()
    target_vocab = Vocabulary(["<pad>", "<unk>", "film", "hotel"])
    target = new_target_model(source, len(target_vocab), 2)
    report = transfer_weights(source, target, SOURCE_VOCAB, target_vocab, ["neg", "pos"],
                              ["pos", "neg"])
    src, dst = named_parameters(source), named_parameters(target)
    for name in src:
        if name.startswith("encoder."):
            np.testing.assert_array_equal(dst[name].data().asnumpy(), src[name].data().asnumpy())
            assert report[name] == "copied"
    np.testing.assert_array_equal(dst["output.weight"].data().asnumpy(),
                                  src["output.weight"].data().asnumpy()[[1, 0]])
    np.testing.assert_array_equal(dst["embedding.weight"].data().asnumpy()[2],
                                  src["embedding.weight"].data().asnumpy()[4])


def test_head_replaced_when_labels_differ():
    source = _source()
    target = new_target_model(source, len(SOURCE_VOCAB), 3)
    before = target.output.weight.data().asnumpy().copy()
    report = transfer_weights(source, target, SOURCE_VOCAB, SOURCE_VOCAB, ["a", "b"],
                              ["a", "b", "c"])
    assert report["output.weight"] == "new"
    assert target.output.weight.shape == (3, 9)  # 3 filters x 3 windows
    np.testing.assert_array_equal(target.output.weight.data().asnumpy(), before)


@pytest.mark.parametrize("strategy,frozen_prefixes", [
    ("scratch", ()), ("fine-tune", ()), ("feature-extract", ("embedding.", "encoder.")),
])
def test_strategies_set_trainable_layers(strategy, frozen_prefixes):
    net = _source()
    layers = apply_strategy(net, strategy, body_lr_mult=0.3)
    assert all(n.startswith(frozen_prefixes) for n in layers["frozen"]) if frozen_prefixes \
        else layers["frozen"] == []
    params = named_parameters(net)
    if strategy == "fine-tune":
        assert params["encoder.convs.0.weight"].lr_mult == 0.3
    if strategy == "feature-extract":
        assert params["output.weight"].lr_mult == 10.0
    with pytest.raises(ValueError, match="unknown strategy"):
        apply_strategy(net, "magic")


def test_em_recovers_shifted_class_priors_and_improves_accuracy():
    from sklearn.linear_model import LogisticRegression

    from transferlearn.transfer.label_shift import adjust_priors, estimate_target_priors

    rng = np.random.RandomState(0)

    def sample(n_pos, n_neg):
        X = np.r_[rng.normal(0.5, 1.0, size=(n_pos, 2)), rng.normal(-0.5, 1.0, size=(n_neg, 2))]
        return X, np.r_[np.ones(n_pos), np.zeros(n_neg)].astype(int)

    X_src, y_src = sample(2000, 2000)  # source: balanced
    clf = LogisticRegression().fit(X_src, y_src)
    X_tgt, y_tgt = sample(400, 1600)   # target: 20% positive
    proba = clf.predict_proba(X_tgt)
    priors, adjusted = estimate_target_priors(proba, [0.5, 0.5])
    assert priors == pytest.approx([0.8, 0.2], abs=0.04)
    before = (proba.argmax(1) == y_tgt).mean()
    after = (adjusted.argmax(1) == y_tgt).mean()
    assert after > before + 0.02
    np.testing.assert_allclose(adjust_priors(proba, [0.5, 0.5], [0.5, 0.5]), proba)
    with pytest.raises(ValueError, match="proba must be"):
        estimate_target_priors(proba[:, :1], [0.5, 0.5])


def test_gradual_unfreezing_trains_each_group_only_from_its_epoch():
    from conftest import toy_texts

    from transferlearn.data.pipeline import make_pipeline
    from transferlearn.training import fit
    from transferlearn.transfer.freezing import unfreeze_schedule
    from transferlearn.transfer.strategies import apply_strategy

    texts, y = toy_texts(120)
    X = make_pipeline(max_len=8).fit_transform(texts)
    mx.random.seed(0)
    net = TextClassifier(50, 2, embed_dim=8, encoder="cnn", num_filters=4, embed_dropout=0.0)
    net.initialize(mx.init.Xavier())
    layers = apply_strategy(net, "gradual", discriminative_factor=2.0)
    assert layers["unfreeze_at"] == {2: "encoder", 3: "embedding"}
    assert layers["trainable"] == ["output.weight", "output.bias"]
    mults = {n: p.lr_mult for n, p in named_parameters(net).items()}
    assert mults["output.weight"] == 1.0 and mults["encoder.convs.0.weight"] == 0.5
    assert mults["embedding.weight"] == 0.25

    def weights():
        return {n: p.data().asnumpy().copy() for n, p in named_parameters(net).items()}

    snapshots = [weights()]
    fit(net, X, y, num_epochs=3, batch_size=16, patience=None, verbose=False,
        epoch_start=unfreeze_schedule(layers["unfreeze_at"]),
        epoch_callback=lambda net, record: snapshots.append(weights()))

    def changed(name, epoch):
        return not np.array_equal(snapshots[epoch - 1][name], snapshots[epoch][name])

    assert changed("output.weight", 1)
    assert not changed("encoder.convs.0.weight", 1) and not changed("embedding.weight", 1)
    assert changed("encoder.convs.0.weight", 2) and not changed("embedding.weight", 2)
    assert changed("embedding.weight", 3)


def test_fit_applies_the_learning_rate_schedule_every_step():
    from conftest import toy_texts

    from transferlearn.data.pipeline import make_pipeline
    from transferlearn.training import fit, slanted_triangular

    texts, y = toy_texts(64)
    X = make_pipeline(max_len=8).fit_transform(texts)
    net = TextClassifier(50, 2, embed_dim=8, encoder="mean", hidden_size=8)
    net.initialize(mx.init.Xavier())
    calls = []
    stlr = slanted_triangular(cut_frac=0.25, ratio=10)

    def schedule(step, total):
        calls.append((step, total))
        return stlr(step, total)

    fit(net, X, y, num_epochs=2, batch_size=16, patience=None, verbose=False,
        lr_schedule=schedule)
    assert calls == [(i, 8) for i in range(8)]
    assert stlr(0, 8) == pytest.approx(0.1) and stlr(2, 8) == pytest.approx(1.0)
