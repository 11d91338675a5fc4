#!/usr/bin/env python
"""Write the walkthrough notebooks' sources (cells only, no outputs).

The notebooks are generated so that their code stays reviewable as Python; every cell calls
the package and holds no logic of its own. `make notebooks` rebuilds them and executes them
in place with papermill (default parameters, bundled data), which is how the committed
outputs were made. The test suite executes them with small parameters.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """\
import os, pathlib, sys, warnings
sys.path.insert(0, str(pathlib.Path.cwd().parent))  # the project root, for a source checkout
os.environ.setdefault("TQDM_MININTERVAL", "5")      # fewer progress-bar redraws in a notebook
warnings.filterwarnings("ignore", message="IProgress not found")
import pandas as pd
from IPython.display import Image, Markdown, display
import transferlearn as tl
from transferlearn import experiments"""

NB01 = [
    ("md", """\
# 1. The blog's eight steps

This notebook follows the tutorial ["Transfer Learning Using MXNet"](https://groverpr.github.io/posts/2020/02/transfer-learning-using-mxnet/)
in its order: **(1)** sklearn text transformers, **(2)** a custom Gluon network, **(3)**
training, **(4)** the output of any layer, **(5)** t-SNE of those outputs, **(6)** save and
load, **(7)** freeze and unfreeze, **(8)** relearning on a new data set. The source domain is
movie-review sentences, the target Amazon product-review sentences (both bundled).

Change the `parameters` cell to use your own data (a CSV/TSV/Parquet path, an `aclImdb`
directory or archive, or an `s3://` URI), e.g.
`DATA = "../../shared/datasets/imdb_reviews.csv.gz"` with `MAX_LEN = 256`."""),
    ("params", """\
DATA = None            # None: the bundled movie review snippets
TARGET = None          # None: the bundled Amazon review snippets
ENCODER = "cnn"        # cnn, bilstm, mean or ngram
EMBED_DIM = 128
MAX_LEN = 64
EPOCHS = 10
TARGET_SIZE = 500      # labelled target rows for step 8
N_POINTS = 600         # points per domain in the t-SNE map
OUT = "../runs/notebooks/base"
SEED = 0"""),
    ("code", SETUP),
    ("md", "## The data\nText and label columns, label balance and text lengths:"),
    ("code", """\
from transferlearn.data import load_dataset, split_train_test
from transferlearn.cli.data import describe, format_description

df = load_dataset(DATA)
print(format_description(describe(df, str(DATA or "movie_snippets"))))
train_df, test_df = split_train_test(df, test_size=0.2, random_state=SEED)
train_df, val_df = split_train_test(train_df.drop(columns="split", errors="ignore"),
                                    test_size=0.1, random_state=SEED)
df.head()"""),
    ("md", """\
## Step 1: sklearn text transformers

The blog builds its preprocessing from small `TransformerMixin` classes in a `Pipeline`:
impute missing texts, lower-case, split into tokens, map tokens to ids. The same names and
arguments work here (`Tokenize(split_pattern)` splits where the pattern matches, `Tok2Idx`
learns the vocabulary from the training rows). A `Padder` cuts or pads to a fixed length, so
that batches have one shape. Watch three texts, one of them missing, go through it."""),
    ("code", """\
from sklearn.pipeline import Pipeline
from transferlearn.data import LowerCaser, NullImputer, Padder, Tok2Idx, Tokenize

split_pattern = r"\\W+"
blog = Pipeline([("null_impute", NullImputer(strategy="constant", fill_value="null")),
                 ("lower_case", LowerCaser()),
                 ("tokenize", Tokenize(split_pattern)),
                 ("token2index", Tok2Idx()),
                 ("pad", Padder(max_len=12))]).fit(train_df["text"])
sample = pd.Series([None] + train_df["text"].head(2).tolist())
for name, step in blog.steps[:-1]:
    sample = step.transform(sample)
    print(f"{name:<12}", sample if name != "token2index" else [ids[:12] for ids in sample])
print("padded:\\n", blog.named_steps["pad"].transform(sample))"""),
    ("md", """\
The package's own pipeline (`make_pipeline`) keeps punctuation as tokens and is what the runs
use; `joblib` saves either, and the reloaded pipeline gives the same ids."""),
    ("code", """\
import joblib

pipe = tl.make_pipeline(max_len=MAX_LEN)
X_train = pipe.fit_transform(train_df["text"])   # the vocabulary comes from training rows only
X_val, X_test = pipe.transform(val_df["text"]), pipe.transform(test_df["text"])
joblib.dump(pipe, "/tmp/transferlearn_pipeline.joblib")
assert (joblib.load("/tmp/transferlearn_pipeline.joblib").transform(test_df["text"])
        == X_test).all()
print(f"vocabulary {len(tl.data.vocabulary_of(pipe)):,} tokens; X_train {X_train.shape}")"""),
    ("md", """\
## Step 2: a custom Gluon network

A network is a `HybridBlock`: declare the layers in `__init__`, say what happens to a batch
in `hybrid_forward`, and `hybridize()` compiles it into one graph. Here is the smallest text
classifier worth the name, written out: an embedding, the mean over the non-padding tokens,
a dense output layer."""),
    ("code", """\
import mxnet as mx
from mxnet.gluon import nn

class TinyClassifier(nn.HybridBlock):
    def __init__(self, vocab_size, num_classes, embed_dim=32, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.embedding = nn.Embedding(vocab_size, embed_dim)
            self.output = nn.Dense(num_classes, in_units=embed_dim)

    def hybrid_forward(self, F, x):                         # x: (batch, seq_len) token ids
        mask = F.expand_dims(x != 0, axis=2)                # (batch, seq_len, 1): not padding
        summed = F.sum(F.broadcast_mul(self.embedding(x), mask), axis=1)  # (batch, embed_dim)
        mean = F.broadcast_div(summed, F.maximum(F.sum(mask, axis=1), 1))
        return self.output(mean)                            # (batch, num_classes)

tiny = TinyClassifier(len(tl.data.vocabulary_of(pipe)), 2)
tiny.initialize(mx.init.Xavier())
tiny.hybridize()
tiny(mx.nd.array(X_train[:4])).shape"""),
    ("md", """\
The package's `TextClassifier` is the same idea with four **named slots**, the unit of
everything that follows (freezing, learning-rate factors, a layer's output): `embedding` ->
`encoder` (`cnn`, `bilstm`, `mean` or the n-gram bag `ngram`) -> `pooling` (masked, so
padding does not count) -> `output`."""),
    ("code", """\
from transferlearn.data import check_classes

labels = check_classes(df)
y_train, y_val, y_test = (d["label"].map(labels.index).to_numpy()
                          for d in (train_df, val_df, test_df))
mx.random.seed(SEED)
net = tl.TextClassifier(len(tl.data.vocabulary_of(pipe)), len(labels), embed_dim=EMBED_DIM,
                        encoder=ENCODER)
net.initialize(mx.init.Xavier())
print(tl.summary(net))"""),
    ("md", """\
## Step 3: training

`fit` is a short loop (epochs of batches) with everything else as callbacks: early stopping
on the validation split, the best epoch's weights kept, a progress line per epoch. MXNet
queues work asynchronously, so the loop waits for the engine every few batches and the times
are true."""),
    ("code", """\
history = tl.fit(net, X_train, y_train, X_val, y_val, num_epochs=EPOCHS, patience=3,
                 random_state=SEED)
test = tl.evaluate(net, X_test, y_test)
display(Markdown(f"**Held-out accuracy {test['accuracy']:.3f}**, ROC AUC "
                 f"{test['roc_auc']:.3f} on {len(X_test):,} test rows; best epoch "
                 f"{history.best_epoch}."))
history.to_frame().set_index("epoch")[["train_loss", "val_loss", "val_accuracy"]].plot(
    subplots=True, figsize=(7, 5));"""),
    ("md", """\
## Step 4: the output of any layer

Every slot's output is a batch of vectors: `layer_output` returns it for any texts, so the
network becomes a feature extractor for any other model."""),
    ("code", """\
from transferlearn.model import layer_output

for layer in ("embedding", "encoder", "pooling", "output"):
    print(f"{layer:<10} {layer_output(net, X_test[:8], layer).shape}")
features = layer_output(net, X_test, "pooling")"""),
    ("md", """\
## Step 5: t-SNE of the pooled features

Movie sentences (source) and Amazon sentences (target) through the base network, mapped to 2-D.
Colour is the data set, the marker the label. The proxy A-distance in each title says how
well a linear classifier tells the two data sets apart (0: not at all, 2: perfectly)."""),
    ("code", """\
from transferlearn.experiments.embeddings import plot_domains, proxy_a_distance

target = load_dataset(TARGET or "amazon_snippets")
src = test_df.sample(min(N_POINTS, len(test_df)), random_state=SEED)
tgt = target.sample(min(N_POINTS, len(target)), random_state=SEED)
f_src = layer_output(net, pipe.transform(src["text"]), "pooling")
f_tgt = layer_output(net, pipe.transform(tgt["text"]), "pooling")
distance = proxy_a_distance(f_src, f_tgt, random_state=SEED)
plot_domains({f"base network, pooled features: A-distance {distance:.2f}":
              (f_src, src["label"], f_tgt, tgt["label"])}, "/tmp/tsne_step5.png",
             domains=("movie_snippets", "amazon_snippets"), verbose=False)
Image("/tmp/tsne_step5.png")"""),
    ("md", """\
## Step 6: save and load

A bundle is a directory: `model.params`, `config.json` (architecture, preprocessing, labels,
versions), `vocab.json` and `metrics.json`. Loading it runs no pickle, so a bundle from a
bucket you do not control is safe to open."""),
    ("code", """\
tl.save_bundle(OUT, net, pipe, labels, metrics=test,
               extra={"training": {"data": DATA, "max_len": MAX_LEN}})
bundle = tl.load_bundle(OUT)
examples = ["A moving, beautifully acted film.", "Two hours of my life I will not get back."]
list(zip(examples, bundle.predict(examples), bundle.predict_proba(examples).max(1).round(3)))"""),
    ("md", """\
## Step 7: freeze and unfreeze

Freezing sets a parameter's `grad_req` to `null`; `fit` builds its trainer over what still
trains. Patterns are slot names, `body` (embedding + encoder) or a regular expression over
the parameter names."""),
    ("code", """\
tl.freeze(bundle.net, "body")
print("trainable after freeze('body'):", tl.trainable(bundle.net))
tl.unfreeze(bundle.net, "encoder")
print("trainable now:", tl.trainable(bundle.net))
_ = tl.unfreeze(bundle.net, ".")  # everything trains again"""),
    ("md", """\
## Step 8: relearn on a new data set

Transfer to the Amazon sentences with a few hundred labels: the target vocabulary is the
source's plus the target's new tokens (shared tokens keep their vectors), the body trains at
half the rate of the head, and the run prints its settings, every epoch, and a scratch model
trained on the same rows for comparison."""),
    ("code", """\
metrics = experiments.transfer(base=OUT, data=TARGET, strategy="fine-tune",
                               train_size=TARGET_SIZE, seed=SEED, scratch_check=True,
                               out=OUT + "-amazon")
Markdown(f"**fine-tune {metrics['accuracy']:.3f}** against scratch "
         f"{metrics['scratch_check']['accuracy']:.3f} on {metrics['n_test']} Amazon test rows "
         f"(the base as it is: see notebook 2's source-only row).")"""),
]

NB02 = [
    ("md", """\
# 2. Transfer to a new domain

The base model from notebook 1 meets a **target** domain with few labels. We look at which
layers train, how the vocabulary carries over, compare feature extraction, fine-tuning and
training from scratch, and draw the learning curve: *when* does transfer pay off?"""),
    ("params", """\
BASE = "../runs/notebooks/base"
TARGET = None          # None: the bundled Amazon review snippets
TRAIN_SIZE = 500       # labelled target rows for the comparison
EPOCHS = 15
BASELINES = "all"      # or a comma list of tfidf-logreg, catboost-text, embedding-logreg
CURVE_SIZES = "100,500,all"   # `make curve` runs 100,200,500,1000,all x 3 seeds
CURVE_STRATEGIES = "scratch,fine-tune"   # the curve's own list: every size x every seed
REPEATS = 2
CURVE_BASELINES = "tfidf-logreg"
OUT = "../runs/notebooks/transfer"
SEED = 0"""),
    ("code", SETUP),
    ("md", """\
## From the base to a target network

`prepare_target` is the one recipe every run uses: the target vocabulary, a network with the
base's architecture, the base's weights (the embedding mapped token by token, a new head if
the strategy wants one), then the strategy's freezing and learning rates."""),
    ("code", """\
from transferlearn import transfer as tr  # freezing, vocabulary, weights, strategies
from transferlearn.data import load_dataset
from transferlearn.transfer import prepare_target

base = tl.load_bundle(BASE)
target = load_dataset(TARGET or "amazon_snippets")
prepared = prepare_target(base, "feature-extract", target["text"].tolist(), base.labels,
                          seed=SEED)
print("\\n".join(prepared.notes))
print(tl.summary(prepared.net))             # embedding + encoder: a fixed feature extractor
tr.unfreeze(prepared.net, "embedding")      # any slot, "body", or a regex over names
print("trainable now:", tr.trainable(prepared.net))"""),
    ("md", """\
## Vocabulary transfer

The target vocabulary is the source's tokens plus the target's new ones: shared tokens keep
their learned vectors, new ones start at the mean source vector."""),
    ("code", """\
print(prepared.vocabulary)"""),
    ("md", """\
## Strategies side by side

Every row trains on the same labelled rows and is scored on the same test rows; the log
shows each strategy's epochs as they run (`strategy 3/8: ...`). `ensemble`, `prior`, `blend`
and `auto` choose by cross-validation on the labelled rows, never on the test rows. `vs_scratch` flags
negative transfer."""),
    ("code", """\
table = experiments.compare(base=BASE, data=TARGET, out=OUT, train_size=TRAIN_SIZE,
                            baselines=experiments.parse_baselines(BASELINES), epochs=EPOCHS,
                            seed=SEED)
Markdown(experiments.format_table(table))"""),
    ("md", """\
## The learning curve

Each strategy and baseline at several label counts, several seeds each. Transfer helps most
when labels are scarce; with enough labels, training from scratch can catch up or win."""),
    ("code", """\
curve = experiments.learning_curve(
    base=BASE, data=TARGET, out=OUT + "/curve", sizes=experiments.parse_sizes(CURVE_SIZES),
    repeats=REPEATS, strategies=CURVE_STRATEGIES.split(","), plot=True,
    baselines=experiments.parse_baselines(CURVE_BASELINES), epochs=EPOCHS, seed=SEED,
    verbose=False)
from transferlearn.experiments import curve_table
display(Markdown(curve_table(curve)))
Image(OUT + "/curve/curve.png")"""),
]

NB03 = [
    ("md", """\
# 3. Embeddings and baselines

What did transfer change inside the network? We take the output of several layers, map
source and target with t-SNE, measure how far apart the domains are (proxy A-distance), and
set the network against classic models: TF-IDF + logistic regression and CatBoost."""),
    ("params", """\
BASE = "../runs/notebooks/base"
TUNED = "../runs/notebooks/transfer/fine-tune"
TARGET = None          # None: the bundled Amazon review snippets
TRAIN_SIZE = 500
N_POINTS = 600
BASELINES = "all"
FIGURE = "../runs/notebooks/tsne.png"
SEED = 0"""),
    ("code", SETUP),
    ("md", "## The output of any layer"),
    ("code", """\
from transferlearn.data import load_dataset
from transferlearn.model import layer_output

base, tuned = tl.load_bundle(BASE), tl.load_bundle(TUNED)
target = load_dataset(TARGET or "amazon_snippets").sample(N_POINTS, random_state=SEED)
X = tuned.transform(target["text"])
for layer in ("embedding", "encoder", "pooling", "output"):
    print(f"{layer:<10} {layer_output(tuned.net, X[:8], layer).shape}")"""),
    ("md", """\
## Source vs target, before and after fine-tuning

Each panel's title gives the proxy A-distance of its features: 0 means a linear classifier
cannot tell the domains apart, 2 means it separates them perfectly."""),
    ("code", """\
figure = experiments.tsne_figure(base, tuned, target, path=FIGURE, n=N_POINTS, seed=SEED,
                              title="fine-tune", verbose=False)
print(figure["a_distance"])
Image(FIGURE)"""),
    ("md", """\
## Baselines on the same labelled rows

The base model as is (source-only), TF-IDF + logistic regression, CatBoost with its own text
processing, and logistic regression on the base network's pooled features."""),
    ("code", """\
labels, train_df, val_df, test_df = experiments.target_splits(TARGET, train_size=TRAIN_SIZE,
                                                             seed=SEED)  # as in notebook 2
labelled = pd.concat([train_df, val_df])
rows = [{"model": "source-only", **experiments.source_only(base, test_df, labels)}]
for name in experiments.parse_baselines(BASELINES):
    rows.append({"model": name, **experiments.baseline_scores(name, labelled, test_df,
                                                              labels, base=BASE, seed=SEED)})
rows.append({"model": "fine-tune", "accuracy": tuned.metrics["accuracy"],
             "roc_auc": tuned.metrics["roc_auc"]})
pd.DataFrame(rows).set_index("model").round(4)"""),
]


def build(cells, stem: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        if kind == "md":
            nb.cells.append(new_markdown_cell(source))
        else:
            cell = new_code_cell(source)
            if kind == "params":
                cell.metadata["tags"] = ["parameters"]
            nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell.id = f"{stem}-{i:02d}"  # stable ids: a rebuild changes only what changed
    return nb


NOTEBOOKS = {"01_preprocessing_and_base_model.ipynb": NB01, "02_transfer.ipynb": NB02,
             "03_embeddings_and_baselines.ipynb": NB03}


def main() -> int:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(cells, name[:2]), HERE / name)
        print(f"wrote {HERE / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
