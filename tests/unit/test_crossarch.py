"""Cross-architecture weight transfer: shapes mapped as reported, values where they belong."""
import mxnet as mx
import numpy as np
import pytest

from transferlearn.data.text import Vocabulary
from transferlearn.model.network import TextClassifier, named_parameters
from transferlearn.transfer.crossarch import format_report, resize, transfer_across


def _net(**kw):
    mx.random.seed(0)
    net = TextClassifier(**{"vocab_size": 6, "num_classes": 2, **kw})
    net.initialize(mx.init.Xavier())
    return net


def _vocab(tokens):
    return Vocabulary(["<pad>", "<unk>", *tokens])


def test_resize_cuts_pools_and_pads():
    a = np.arange(12.0).reshape(3, 4)
    cut, how = resize(a, (2, 4))
    assert how == {"cut"} and cut.tolist() == a[:2].tolist()
    pooled, how = resize(a, (3, 2), shrink="pool")
    assert how == {"pooled"} and pooled[:, 0].tolist() == [0.5, 4.5, 8.5]
    padded, how = resize(a, (3, 6), grow="zero")
    assert how == {"padded"} and (padded[:, 4:] == 0).all() and (padded[:, :4] == a).all()
    meaned, _ = resize(a, (5, 4))
    np.testing.assert_allclose(meaned[3:], np.tile(a.mean(axis=0), (2, 1)), atol=0.5 * a.std())
    assert not np.array_equal(meaned[3], meaned[4])  # noise breaks the symmetry
    with pytest.raises(ValueError, match="shrink must be"):
        resize(a, (2, 2), shrink="squash")


def test_lstm_gates_are_resized_one_by_one():
    gates = np.repeat(np.arange(4.0), 3)[:, None] * np.ones((1, 5))  # 4 gates x 3 units
    out, how = resize(gates, (8, 5), blocks={0: (4, 4)})
    assert out[:, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3] and how == {"cut"}


def test_cnn_to_a_narrower_wider_cnn_reports_and_copies_slices():
    src = _net(encoder="cnn", embed_dim=8, num_filters=4, kernel_sizes=(3, 5))
    dst = _net(encoder="cnn", embed_dim=6, num_filters=5, kernel_sizes=(3, 5), vocab_size=7)
    report = transfer_across(src, dst, _vocab("abcd"), _vocab("abcde"), ["n", "p"], ["n", "p"])
    assert report["embedding.weight"]["action"] == "cut+mapped"
    assert report["encoder.convs.0.weight"] == {"action": "cut+padded", "from": (4, 8, 3),
                                                "to": (5, 6, 3)}
    assert report["output.weight"]["action"] == "padded"
    s, d = named_parameters(src), named_parameters(dst)
    np.testing.assert_array_equal(d["encoder.convs.1.weight"].data().asnumpy()[:4, :, :],
                                  s["encoder.convs.1.weight"].data().asnumpy()[:, :6, :])
    np.testing.assert_array_equal(d["embedding.weight"].data().asnumpy()[:6],
                                  s["embedding.weight"].data().asnumpy()[:, :6])
    # the output layer's columns follow the window blocks: block 2 starts at column 5 now
    out_s, out_d = s["output.weight"].data().asnumpy(), d["output.weight"].data().asnumpy()
    np.testing.assert_array_equal(out_d[:, 5:9], out_s[:, 4:8])
    assert "cut+padded" in format_report(report)


def test_cnn_to_bilstm_draws_the_new_encoder_from_the_source_statistics():
    src = _net(encoder="cnn", embed_dim=8, num_filters=4)
    dst = _net(encoder="bilstm", embed_dim=8, hidden_size=3)
    report = transfer_across(src, dst, _vocab("abcd"), _vocab("abcd"), ["n", "p"], ["n", "p"])
    lstm = [n for n in report if n.startswith("encoder.")]
    assert lstm and all(report[n]["action"].startswith("new: N(") for n in lstm)
    assert report["embedding.weight"]["action"] == "mapped"
    assert report["output.weight"]["action"] in ("cut", "padded", "cut+padded")
    out = dst(mx.nd.array([[2, 3, 0]], dtype="int32"))
    assert out.shape == (1, 2) and np.isfinite(out.asnumpy()).all()


def test_a_different_label_set_gets_a_new_head():
    src, dst = _net(encoder="mean", hidden_size=4), _net(encoder="mean", hidden_size=6,
                                                          num_classes=3)
    report = transfer_across(src, dst, _vocab("abcd"), _vocab("abcd"), ["n", "p"],
                             ["a", "b", "c"])
    assert report["output.weight"]["action"] == "new"
    assert report["encoder.proj.weight"]["action"] == "padded"
