"""Knowledge distillation: the student follows the teacher's soft targets."""
import mxnet as mx
import numpy as np
from conftest import toy_texts

from transferlearn.data.pipeline import make_pipeline
from transferlearn.model.network import TextClassifier
from transferlearn.training import fit
from transferlearn.training.metrics import evaluate


def test_student_learns_the_teachers_targets_not_the_labels():
    texts, y = toy_texts(300, 1)
    X = make_pipeline(max_len=8).fit_transform(texts)
    vocab = int(X.max()) + 1
    teacher_logits = np.stack([-4.0 * (y * 2 - 1), 4.0 * (y * 2 - 1)], axis=1)  # knows y
    wrong = 1 - y  # labels that contradict the teacher
    results = {}
    for alpha in (1.0, 0.0):
        mx.random.seed(0)
        net = TextClassifier(vocab, 2, embed_dim=8, encoder="mean", hidden_size=8)
        net.initialize(mx.init.Xavier())
        fit(net, X[:200], wrong[:200], num_epochs=15, lr=1e-2, batch_size=32, verbose=False,
            soft_targets=teacher_logits[:200], temperature=2.0, alpha=alpha)
        results[alpha] = evaluate(net, X[200:], y[200:])["accuracy"]
    assert results[1.0] >= 0.9  # only the teacher's targets: it learns the truth
    assert results[0.0] <= 0.1  # only the (wrong) labels: it learns those
