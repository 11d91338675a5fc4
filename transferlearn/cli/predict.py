"""``transferlearn predict`` and ``transferlearn evaluate``: use a trained bundle without
writing Python.

Examples::

    transferlearn predict --bundle runs/target/auto --input reviews.txt --out labels.csv
    cat reviews.txt | transferlearn predict --bundle s3://models/hotel --input -
    transferlearn evaluate --bundle runs/target/auto --data hotel_test.csv --out runs/eval

``predict`` reads texts (a ``.txt`` with one text per line, a table's text column, a data
set name, ``s3://``, or ``-`` for stdin) and writes a CSV: the text, the predicted label and
one probability column per label. ``evaluate`` scores the bundle on a labelled file:
accuracy, ROC AUC, per-class precision / recall / F1, the confusion matrix and the
worst-scored examples, printed and written to ``OUT/metrics.json`` and
``OUT/confusion.png``.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd

from ..checks import flag_type
from .common import data_arguments, overwrite_argument, run, storage_arguments


def predict_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Labels and probabilities of texts "
                                                       "from a trained bundle.")
    p.add_argument("--bundle", required=True, help="bundle directory (local or s3://)")
    p.add_argument("--input", required=True, metavar="TEXTS",
                   help="a .txt file (one text per line), a table (its text column), a "
                        "bundled data set name, s3://, or - for stdin")
    p.add_argument("--text-col", default=None, help="the table's text column (guessed)")
    p.add_argument("--out", default=None,
                   help="CSV to write (default, or -: stdout); an existing file is replaced "
                        "only if transferlearn wrote it")
    p.add_argument("--batch-size", type=flag_type("batch_size"), default=512)
    overwrite_argument(p)
    storage_arguments(p)
    return p


def _texts(source: str, text_col) -> list[str]:
    """The texts to label: stdin (``-``) and ``.txt`` files give one text per line."""
    from ..data.readers import unlabeled_texts
    from ..io.storage import spool

    if source == "-":  # read once into a file, then as any .txt (same decoding and checks)
        source = str(spool(sys.stdin.buffer, "stdin", "stdin", ".txt"))
    return unlabeled_texts(source, text_col=text_col)


def predictions(bundle, texts: list[str], batch_size: int = 512) -> pd.DataFrame:
    """``text``, ``label`` and ``p_<label>`` for each text."""
    proba = bundle.predict_proba(texts, batch_size)
    table = pd.DataFrame({"text": texts,
                          "label": [bundle.labels[i] for i in proba.argmax(axis=1)]})
    for j, label in enumerate(bundle.labels):
        table[f"p_{label}"] = np.round(proba[:, j], 6)
    return table


RECOMMENDED = "auto"  # in a comparison: the strategy chosen by cross-validation


def bundle_at(location: str):
    """The bundle at `location`; for a comparison's directory (bundles in subdirectories),
    its ``auto`` bundle with a note, or one line listing the bundles inside."""
    from pathlib import Path

    from ..bundle.store import load_bundle
    from ..errors import BundleError
    from ..io.storage import is_remote

    path = Path(location).expanduser()
    if is_remote(location) or not path.is_dir() or (path / "config.json").exists():
        return load_bundle(location)
    inside = sorted(p.name for p in path.iterdir()
                    if p.is_dir() and not p.is_symlink() and (p / "config.json").is_file())
    if not inside:
        return load_bundle(location)  # its own error: not a model bundle
    if RECOMMENDED in inside:
        other = next((n for n in inside if n != RECOMMENDED), None)
        print(f"{location} holds {len(inside)} bundles (a comparison): using "
              f"{path / RECOMMENDED}, chosen by cross-validation on the labelled rows"
              + (f"; --bundle {path / other} etc. for another" if other else ""),
              file=sys.stderr)
        return load_bundle(path / RECOMMENDED)
    raise BundleError(f"{location} is not a bundle but holds {len(inside)}: "
                      f"{', '.join(str(path / n) for n in inside)}; pass one with --bundle")


def predict_main(argv=None, prog: str | None = None) -> int:
    def body(args):
        from ..io.outputs import STDOUT, check_output_file
        from ..io.storage import atomic_write

        if args.out is not None:  # before any work: never over an input or a user's file
            check_output_file(args.out, (args.input, args.bundle), args.overwrite)
        bundle = bundle_at(args.bundle)
        table = predictions(bundle, _texts(args.input, args.text_col), args.batch_size)
        if args.out in (None, STDOUT):
            table.to_csv(sys.stdout, index=False)
            return
        with atomic_write(args.out) as handle:
            table.to_csv(handle, index=False)
        counts = table["label"].value_counts()
        print(f"{len(table):,} texts -> {args.out} (" + ", ".join(
            f"{label} {counts.get(label, 0):,}" for label in bundle.labels) + ")")

    return run(body, argv, predict_parser(prog))


def evaluate_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="Score a trained bundle on labelled "
                                                       "texts.")
    p.add_argument("--bundle", required=True, help="bundle directory (local or s3://)")
    p.add_argument("--data", required=True,
                   help="labelled texts: a table, aclImdb tree, snippet file, bundled name or "
                        "s3://")
    data_arguments(p, "labelled", data_flag=False)
    p.add_argument("--out", default=None,
                   help="directory for metrics.json and confusion.png (default: print only)")
    p.add_argument("--worst", type=flag_type("worst"), default=5,
                   help="how many of the worst-scored texts to show")
    overwrite_argument(p)
    return p


def evaluation(bundle, df: pd.DataFrame, worst: int = 5) -> dict:
    """Accuracy, ROC AUC, per-class precision / recall / F1 / support, the confusion matrix
    (rows: true labels, columns: predicted) and the `worst` texts with the lowest probability
    of their true label."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    from ..data.loading import encode_labels
    from ..training.metrics import scores

    y = encode_labels(df["label"], bundle.labels, "the labelled data")
    proba = bundle.predict_proba(df["text"].tolist())
    predicted = proba.argmax(axis=1)
    classes = list(range(len(bundle.labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=classes, zero_division=0)
    truth = proba[np.arange(len(y)), y]
    order = np.argsort(truth)[:worst]
    return {**scores(y, proba), "n": int(len(y)), "labels": bundle.labels,
            "per_class": {label: {"precision": round(float(precision[i]), 4),
                                  "recall": round(float(recall[i]), 4),
                                  "f1": round(float(f1[i]), 4), "support": int(support[i])}
                          for i, label in enumerate(bundle.labels)},
            "confusion": confusion_matrix(y, predicted, labels=classes).tolist(),
            "worst": [{"text": str(df["text"].iloc[i])[:300],
                       "label": bundle.labels[y[i]],
                       "predicted": bundle.labels[predicted[i]],
                       "p_true": round(float(truth[i]), 4)} for i in order]}


def evaluation_lines(result: dict) -> list[str]:
    lines = [f"accuracy {result['accuracy']:.4f}, ROC AUC {result['roc_auc']:.4f} on "
             f"{result['n']:,} texts", "", "| label | precision | recall | f1 | support |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {label} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
              f"{r['support']:,} |" for label, r in result["per_class"].items()]
    lines += ["", "confusion (rows: true, columns: predicted): "
              + "; ".join(f"{label}: {row}" for label, row in zip(
                  result["labels"], result["confusion"], strict=True)), "", "worst scored:"]
    lines += [f"  p({w['label']}) = {w['p_true']:.3f}, predicted {w['predicted']}: "
              f"{w['text'][:120]!r}" for w in result["worst"]]
    return lines


def confusion_figure(result: dict, path, overwrite: bool = False) -> None:
    """The confusion matrix as a heat map, counts in the cells."""
    from matplotlib.figure import Figure

    from ..io.outputs import save_figure

    matrix = np.array(result["confusion"])
    labels = result["labels"]
    fig = Figure(figsize=(1.6 + 0.9 * len(labels), 1.2 + 0.9 * len(labels)))
    ax = fig.add_subplot()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, f"{count:,}", ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black")
    ax.set_title(f"accuracy {result['accuracy']:.3f}")
    fig.tight_layout()
    save_figure(fig, path, dpi=120, overwrite=overwrite)


def evaluate_main(argv=None, prog: str | None = None) -> int:
    def body(args):
        from ..bundle.store import write_json
        from ..data.readers import load_dataset
        from ..errors import DataError
        from ..io.outputs import check_output, output_lock
        from ..io.storage import output_dir

        if args.out:  # before any work: never into the bundle or over a user's files
            check_output(args.out, (args.bundle, args.data), args.overwrite)
        bundle = bundle_at(args.bundle)
        df = load_dataset(args.data, args.text_col, args.label_col, args.neutral_band,
                          truthful_only=args.truthful_only, categorical=args.categorical)
        unlabelled = df.attrs.get("n_dropped_no_label", 0)
        if unlabelled:
            rows = ", ".join(map(str, df.attrs.get("no_label_rows", [])))
            raise DataError(f"{args.data}: {unlabelled:,} row{'s' * (unlabelled > 1)} without "
                            f"a label (data row {rows}, counting from 1); evaluate scores "
                            "every row: label or remove them")
        result = evaluation(bundle, df, args.worst)
        print("\n".join(evaluation_lines(result)))
        if args.out:
            with output_lock(args.out), output_dir(args.out, quiet=True) as out:
                out.mkdir(parents=True, exist_ok=True)  # s3://: a local folder, then uploaded
                write_json(out / "metrics.json", result)
                confusion_figure(result, out / "confusion.png", args.overwrite)
            print(f"\nmetrics.json and confusion.png in {args.out}")

    parser = evaluate_parser(prog)
    return run(body, argv, parser)


__all__ = ["evaluate_main", "evaluation", "predict_main", "predictions"]
