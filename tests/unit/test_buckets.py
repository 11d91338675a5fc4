"""Length buckets (training/buckets.py): batches of similar-length rows cut to their width."""
import mxnet as mx
import numpy as np
import pytest

from transferlearn.model.network import TextClassifier
from transferlearn.training import fit
from transferlearn.training.buckets import LengthBuckets
from transferlearn.training.steps import CrossEntropy

pytestmark = pytest.mark.unit


def _ids(lengths, width=40, seed=0):
    rng = np.random.RandomState(seed)
    X = np.zeros((len(lengths), width), dtype=np.int32)
    for i, n in enumerate(lengths):
        X[i, :n] = rng.randint(2, 50, size=n)
    return X


def test_every_row_once_per_epoch_in_a_batch_as_wide_as_its_bucket():
    lengths = np.random.RandomState(0).randint(1, 65, size=1000)
    buckets = LengthBuckets(lengths, 32, 10)
    assert len(buckets.keys) == 10 and max(buckets.keys) == lengths.max()
    rng = np.random.RandomState(3)
    for _ in range(2):
        batches = buckets.batches(rng)
        assert len(batches) == len(buckets)
        assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
        for idx in batches:
            width = buckets.width(idx)
            assert width in buckets.keys and lengths[idx].max() <= width
            assert len(idx) <= 32
        # buckets keep widths near the rows' lengths: far less padding than the full width
        padded = sum(len(idx) * buckets.width(idx) for idx in batches)
        assert padded < 0.7 * len(lengths) * lengths.max()


def test_batch_order_comes_from_the_given_generator_only():
    lengths = np.random.RandomState(0).randint(1, 65, size=300)
    buckets = LengthBuckets(lengths, 16, 5)
    np.random.seed(11)
    before = np.random.get_state()[1].copy()
    a = buckets.batches(np.random.RandomState(7))
    assert (np.random.get_state()[1] == before).all()  # NumPy's global generator untouched
    b = buckets.batches(np.random.RandomState(7))
    c = buckets.batches(np.random.RandomState(8))
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert [x.tolist() for x in a] != [x.tolist() for x in c]


def test_automatic_buckets_need_padding_and_enough_rows():
    short = np.random.RandomState(0).randint(1, 65, size=2000)
    assert LengthBuckets.make(short, 64, None) is not None  # padding ~50%, 31 batches
    assert LengthBuckets.make(np.full(2000, 64), 64, None) is None  # no padding
    assert LengthBuckets.make(short[:200], 64, None) is None  # under 2 buckets of 4 batches
    assert LengthBuckets.make(short, 64, 0) is None  # off
    assert len(LengthBuckets.make(short[:200], 64, 3).keys) == 3  # asked for


def _random_biases(net):
    """Nonzero encoder biases, as after training: with zero ones a zero input keeps an LSTM's
    state at 0, and padding read by a direction would go unseen."""
    for name, param in net.encoder.collect_params().items():
        if name.endswith("bias"):
            param.set_data(mx.nd.random.uniform(-0.5, 0.5, shape=param.shape))


@pytest.mark.parametrize("encoder", ["cnn", "mean", "ngram", "bilstm"])
def test_cutting_trailing_padding_leaves_the_outputs_unchanged(encoder):
    """What makes cutting a batch to its bucket's width safe."""
    X = _ids([3, 9, 1, 12])
    net = TextClassifier(50, 2, encoder=encoder, embed_dim=8, hidden_size=6, num_filters=4)
    net.initialize(mx.init.Xavier())
    _random_biases(net)
    assert net.padding_invariant
    full = net(mx.nd.array(X, dtype="int32")).asnumpy()
    cut = net(mx.nd.array(X[:, :12], dtype="int32")).asnumpy()
    np.testing.assert_allclose(cut, full, rtol=1e-5, atol=1e-6)


class _PaddedBiLSTM(mx.gluon.HybridBlock):
    """A plain fused bidirectional LSTM: its backward direction reads the padding."""

    padding_invariant = False

    def __init__(self, embed_dim, hidden_size):
        super().__init__()
        self.out_units = 2 * hidden_size
        with self.name_scope():
            self.lstm = mx.gluon.rnn.LSTM(hidden_size, layout="NTC", bidirectional=True,
                                          input_size=embed_dim)

    def hybrid_forward(self, F, x):
        return self.lstm(x)


def test_an_encoder_that_reads_padding_keeps_its_batches_whole(monkeypatch):
    """The protocol for encoders added to the registry: ``padding_invariant = False`` turns
    the automatic buckets (and inference's cutting) off."""
    from transferlearn.model import encoders

    monkeypatch.setitem(encoders.ENCODER_REGISTRY, "padded-bilstm",
                        (lambda e, h, f, k: _PaddedBiLSTM(e, h), "max"))
    X = _ids([3, 9, 1, 12] * 200)
    net = TextClassifier(50, 2, encoder="padded-bilstm", embed_dim=8, hidden_size=6)
    net.initialize(mx.init.Xavier())
    _random_biases(net)
    assert not net.padding_invariant
    full = net(mx.nd.array(X[:4], dtype="int32")).asnumpy()
    cut = net(mx.nd.array(X[:4, :12], dtype="int32")).asnumpy()
    assert np.abs(cut - full).max() > 1e-4  # the backward direction reads the padding
    widths = _widths_seen(monkeypatch)
    fit(net, X, np.arange(len(X)) % 2, num_epochs=1, verbose=False)
    assert widths == {40}


def test_bilstm_reads_each_row_to_its_length_and_trains_on_buckets(monkeypatch):
    """Both directions of the BiLSTM equal a plain bidirectional LSTM run on the row alone,
    unpadded, with the same weights; so its training batches are cut to buckets."""
    lengths = [3, 9, 1, 12]
    X = _ids(lengths)
    net = TextClassifier(50, 2, encoder="bilstm", embed_dim=8, hidden_size=6)
    net.initialize(mx.init.Xavier())
    _random_biases(net)
    alone = mx.gluon.rnn.LSTM(6, layout="NTC", bidirectional=True, input_size=8)
    alone.initialize()
    ours = {tuple(k.rsplit("_", 3)[-3:]): v for k, v in net.encoder.lstm.collect_params().items()}
    for key, param in alone.collect_params().items():
        param.set_data(ours[tuple(key.rsplit("_", 3)[-3:])].data())
    emb = net.embedding(mx.nd.array(X, dtype="int32"))
    net.hybridize()
    enc = net.encoder(emb, mx.nd.array(lengths)).asnumpy()  # (4, 40, 12)
    for i, n in enumerate(lengths):
        np.testing.assert_allclose(enc[i, :n], alone(emb[i:i + 1, :n]).asnumpy()[0],
                                   rtol=1e-5, atol=1e-6)
    widths = _widths_seen(monkeypatch)
    rows = _ids(np.random.RandomState(0).randint(1, 41, size=1200))
    fit(net, rows, np.arange(len(rows)) % 2, num_epochs=1, batch_size=32, verbose=False)
    assert len(widths) > 3 and max(widths) == 40 and min(widths) < 15


def _widths_seen(monkeypatch) -> set:
    """Record the width of every training batch the cross-entropy step sees."""
    seen: set = set()
    losses = CrossEntropy.losses

    def spy(self, loop, rows):
        seen.add(loop.batch_ids(rows).shape[1])
        return losses(self, loop, rows)

    monkeypatch.setattr(CrossEntropy, "losses", spy)
    return seen


def test_fit_trains_on_bucket_widths_and_learns(monkeypatch):
    rng = np.random.RandomState(0)
    lengths = rng.randint(1, 41, size=1200)
    X, y = _ids(lengths), (lengths > 20).astype(int)  # long texts are class 1
    widths = _widths_seen(monkeypatch)
    net = TextClassifier(50, 2, encoder="cnn", embed_dim=8, num_filters=4)
    net.initialize(mx.init.Xavier())
    history = fit(net, X, y, num_epochs=2, batch_size=32, verbose=False)
    assert len(widths) > 3 and max(widths) == 40 and min(widths) < 15
    assert len(history.epochs) == 2
    widths.clear()
    fit(net, X, y, num_epochs=1, batch_size=32, verbose=False, length_buckets=0)
    assert widths == {40}


@pytest.mark.parametrize("encoder", ["cnn", "mean", "bilstm"])
def test_inference_by_length_returns_the_uncut_outputs_in_order(encoder):
    from transferlearn.model.inference import batch_widths, predict_logits

    lengths = np.random.RandomState(1).randint(1, 41, size=50)
    X = _ids(lengths)
    net = TextClassifier(50, 2, encoder=encoder, embed_dim=8, hidden_size=6, num_filters=4)
    net.initialize(mx.init.Xavier())
    net.hybridize()
    expected = net(mx.nd.array(X, dtype="int32")).asnumpy()
    np.testing.assert_allclose(predict_logits(net, X, batch_size=8), expected, rtol=1e-5,
                               atol=1e-6)
    order, widths = batch_widths(X, 8)
    assert len(widths) == 7 and widths == sorted(widths, reverse=True)
    assert all(w % 32 == 0 or w == 40 for w in widths) and widths[-1] < 40
    assert (np.diff(lengths[order]) <= 0).all()
    assert batch_widths(X, 8, by_length=False) == (None, [40] * 7)  # as they are, whole
