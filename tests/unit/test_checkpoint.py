"""Per-epoch checkpoints and resume (the subprocess kill test is in test_resume.py)."""
import json

import mxnet as mx
import numpy as np
import pytest
from conftest import toy_texts

from transferlearn.data.pipeline import make_pipeline
from transferlearn.io.checkpoint import Checkpointer, CheckpointError, fingerprint
from transferlearn.model.network import TextClassifier
from transferlearn.training import clone_state, fit
from transferlearn.transfer.freezing import unfreeze_schedule
from transferlearn.transfer.strategies import apply_strategy

SETTINGS = {"num_epochs": 5, "batch_size": 32, "lr": 5e-3}


class Killed(Exception):
    pass


def _toy():
    texts, y = toy_texts(240, 3)
    pipe = make_pipeline(max_len=8)
    X = pipe.fit_transform(texts)
    return X, y, len(pipe.named_steps["index"].vocab_)


def _net(vocab_size, dropout=0.5, encoder="cnn"):
    mx.random.seed(0)
    net = TextClassifier(vocab_size, 2, embed_dim=8, encoder=encoder, num_filters=4,
                         dropout=dropout, embed_dropout=dropout,
                         sparse_grad=encoder == "ngram")
    net.initialize(mx.init.Xavier())
    return net


def _fit(net, X, y, ckpt, resume=False, kill_after=None, **kwargs):
    def callback(_net, record):
        if kill_after is not None and record["epoch"] == kill_after:
            raise Killed

    return fit(net, X[:160], y[:160], X[160:], y[160:], patience=10, random_state=5,
               verbose=False, checkpoint=ckpt, resume=resume, epoch_callback=callback,
               **SETTINGS, **kwargs)


@pytest.mark.parametrize("encoder", ["cnn", "ngram"])  # ngram: the bag step, word dropout
def test_resumed_run_equals_uninterrupted_run(tmp_path, encoder):
    X, y, vocab = _toy()
    fp = fingerprint(X, y, SETTINGS)
    whole = _net(vocab, encoder=encoder)
    h_whole = _fit(whole, X, y, Checkpointer(tmp_path / "a", fp))
    first = _net(vocab, encoder=encoder)
    with pytest.raises(Killed):
        _fit(first, X, y, Checkpointer(tmp_path / "b", fp), kill_after=2)
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["epoch-0002"]
    resumed = _net(vocab, encoder=encoder)  # a fresh process would rebuild it like this
    h_resumed = _fit(resumed, X, y, Checkpointer(tmp_path / "b", fp), resume=True)
    a, b = clone_state(whole), clone_state(resumed)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert [r["epoch"] for r in h_resumed.epochs] == [1, 2, 3, 4, 5]
    assert h_resumed.best_epoch == h_whole.best_epoch
    for r1, r2 in zip(h_whole.epochs, h_resumed.epochs, strict=True):
        assert r1["train_loss"] == pytest.approx(r2["train_loss"], rel=1e-5)


def test_resume_replays_gradual_unfreezing(tmp_path):
    X, y, vocab = _toy()
    fp = fingerprint(X, y, SETTINGS)
    nets = []
    for kill in (None, 2):
        net = _net(vocab)
        schedule = apply_strategy(net, "gradual")["unfreeze_at"]
        ckpt = Checkpointer(tmp_path / str(kill), fp)
        if kill:
            with pytest.raises(Killed):
                _fit(net, X, y, ckpt, kill_after=kill, epoch_start=unfreeze_schedule(schedule))
            net = _net(vocab)
            apply_strategy(net, "gradual")
        _fit(net, X, y, ckpt, resume=bool(kill), epoch_start=unfreeze_schedule(schedule))
        nets.append(clone_state(net))
    for name in nets[0]:
        np.testing.assert_allclose(nets[0][name], nets[1][name], rtol=1e-5, atol=1e-6)


def test_resume_without_checkpoint_starts_over(tmp_path, capsys):
    X, y, vocab = _toy()
    history = fit(_net(vocab), X, y, num_epochs=1, checkpoint=Checkpointer(
        tmp_path / "none", fingerprint(X, y, {})), resume=True)
    assert len(history.epochs) == 1
    assert "no checkpoint in" in capsys.readouterr().out


def test_checkpoint_of_another_run_is_refused(tmp_path):
    X, y, vocab = _toy()
    with pytest.raises(Killed):
        _fit(_net(vocab), X, y, Checkpointer(tmp_path, fingerprint(X, y, SETTINGS)),
             kill_after=1)
    other = Checkpointer(tmp_path, fingerprint(X, y, {**SETTINGS, "batch_size": 16}))
    with pytest.raises(CheckpointError, match=r"different run \(batch_size 32 there, 16 here\)"):
        other.latest()
    changed = Checkpointer(tmp_path, fingerprint(X, 1 - y, SETTINGS))
    with pytest.raises(CheckpointError, match="the training data differs"):
        changed.latest()


def test_damaged_checkpoint_is_refused_and_temp_dirs_are_cleaned(tmp_path):
    X, y, vocab = _toy()
    ckpt = Checkpointer(tmp_path, fingerprint(X, y, SETTINGS))
    with pytest.raises(Killed):
        _fit(_net(vocab), X, y, ckpt, kill_after=1)
    (tmp_path / ".epoch-tmp-left").mkdir()  # what a kill during a checkpoint write leaves
    params = tmp_path / "epoch-0001" / "model.params"
    params.write_bytes(params.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="model.params: damaged"):
        ckpt.latest()
    assert not (tmp_path / ".epoch-tmp-left").exists()
    state = json.loads((tmp_path / "epoch-0001" / "state.json").read_text())
    assert state["epoch"] == 1 and set(state["sha256"]) >= {"model.params", "optimizer.params"}


def test_several_contexts_give_the_single_context_result():
    X, y, vocab = _toy()
    results = []
    for ctx in (mx.cpu(0), [mx.cpu(0), mx.cpu(1)]):
        net = _net(vocab, dropout=0.0)
        fit(net, X, y, num_epochs=2, batch_size=32, lr=5e-3, ctx=ctx, verbose=False)
        assert net.embedding.weight.list_ctx() == [mx.cpu(0)]  # back where it started
        results.append(clone_state(net))
    for name in results[0]:
        np.testing.assert_allclose(results[0][name], results[1][name], rtol=1e-4, atol=1e-5,
                                   err_msg=name)


def test_a_callers_own_callback_runs_and_keeps_its_state_across_a_resume(tmp_path):
    from transferlearn.training.callbacks import Callback

    class CountBatches(Callback):
        """Counts the batches it saw; a checkpoint keeps the count."""

        order = 60

        def __init__(self):
            self.seen = 0

        def on_batch_end(self, loop):
            self.seen += 1

        def checkpoint_state(self, loop):
            return {"batches_seen": self.seen}, None

        def restore_state(self, state, weights, loop):
            self.seen = state["batches_seen"]

    X, y, vocab = _toy()
    fp = fingerprint(X, y, SETTINGS)
    whole = CountBatches()
    _fit(_net(vocab), X, y, Checkpointer(tmp_path / "a", fp), callbacks=[whole])
    assert whole.seen == 5 * 5  # 5 epochs of 160 rows in batches of 32
    first = CountBatches()
    with pytest.raises(Killed):
        _fit(_net(vocab), X, y, Checkpointer(tmp_path / "b", fp), kill_after=2,
             callbacks=[first])
    state = json.loads((tmp_path / "b" / "epoch-0002" / "state.json").read_text())
    assert state["batches_seen"] == 10 and "best_epoch" in state  # beside keep-best's keys
    resumed = CountBatches()  # a new process: its count comes back from the checkpoint
    _fit(_net(vocab), X, y, Checkpointer(tmp_path / "b", fp), resume=True,
         callbacks=[resumed])
    assert resumed.seen == whole.seen
