import mxnet as mx
import numpy as np
import pytest

from transferlearn.model import TextClassifier, named_parameters
from transferlearn.text import Vocabulary
from transferlearn.transfer import (
    apply_strategy,
    coverage,
    freeze,
    map_embeddings,
    new_target_model,
    select,
    set_lr_mult,
    target_vocabulary,
    trainable,
    transfer_weights,
    unfreeze,
)

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
