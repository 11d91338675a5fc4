"""The rows every strategy is compared with, and the reports of a run."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..data.loading import encode_labels
from ..errors import DataError
from ..log import logger, warn
from ..model.inference import predict_logits, predict_proba
from ..model.network import named_parameters
from ..training.metrics import scores
from ..transfer.label_shift import estimate_target_priors
from ..transfer.strategies import (
    REFERENCE,
)
from ..transfer.weights import label_order
from .curves import (
    mark_negative_transfer,
    negative_transfer_warnings,
)
from .selection import MIXES, mix_description


def _infer_rate(net, X: np.ndarray, repeats: int = 3) -> float:
    predict_logits(net, X[:512])  # build the inference graph first
    best = min(_timed(lambda: predict_logits(net, X)) for _ in range(repeats))
    return len(X) / best if best > 0 else float("inf")


def _timed(call) -> float:
    tic = time.perf_counter()
    call()
    return time.perf_counter() - tic


def distillation_report(teacher, student, student_pipe, test_df: pd.DataFrame,
                        labels: list) -> dict:
    """Teacher vs student on the test rows: accuracy, parameter count, inference texts/s."""
    y = encode_labels(test_df["label"], labels, "target")
    order = label_order(teacher.labels, labels)
    X_teacher = teacher.transform(test_df["text"])
    X_student = student_pipe.transform(test_df["text"])
    teacher.net.hybridize(static_alloc=True, static_shape=True)
    size = lambda net: int(sum(np.prod(p.shape) for p in named_parameters(net).values()))  # noqa: E731
    return {"teacher_accuracy": scores(y, predict_proba(teacher.net, X_teacher)[:, order])[
                "accuracy"],
            "teacher_params": size(teacher.net), "student_params": size(student),
            "teacher_infer_per_s": round(_infer_rate(teacher.net, X_teacher), 1),
            "student_infer_per_s": round(_infer_rate(student, X_student), 1)}


def label_shift_scores(net, X_test, y_test, y_fit, labels) -> dict:
    """Scores of `net` on the test rows after EM label-shift correction (labels unused by EM).

    The source priors are the class shares of `y_fit`, the rows `net` was trained on.
    """
    counts = np.bincount(np.asarray(y_fit, dtype=int), minlength=len(labels))
    if counts.sum() == 0:
        raise DataError("label shift needs the training rows' labels")
    train = counts / counts.sum()
    proba = predict_proba(net, X_test)
    if train.min() <= 0:
        raise DataError("label shift needs every class among the training rows")
    result, target = _prior_shift_scores(proba, train, y_test, labels)
    return {**result, "train_priors": _by_label(train, labels), "target_priors": target}


def _prior_shift_scores(proba, train_priors, y, labels) -> tuple[dict, dict]:
    """Scores of `proba` re-weighted to the target priors EM estimates from it (Saerens et
    al. 2002), and those priors by label."""
    target, adjusted = estimate_target_priors(proba, train_priors)
    return scores(y, adjusted), _by_label(target, labels)


def _by_label(values, labels) -> dict:
    return dict(zip(map(str, labels), np.round(values, 4).tolist(), strict=True))


def zero_label_scores(bundle, test_df: pd.DataFrame, labels: list,
                      label_shift: bool = False) -> dict:
    """The base model on the target test rows with no target labels, from one prediction pass.

    ``"source-only"``: its outputs as they are. With `label_shift`, ``"source-only+priors"``
    (when the base recorded its training class counts): the outputs re-weighted to target
    class priors estimated by EM from the unlabelled test texts (their labels are not used),
    with the estimated ``"priors"``; asked for only (on balanced sentiment targets it scored
    0.497, below chance). Empty when the label sets differ.
    """
    order = label_order(bundle.labels, labels)
    if order is None:
        return {}
    proba = bundle.predict_proba(test_df["text"])[:, order]
    y = encode_labels(test_df["label"], labels, "target")
    result = {"source-only": scores(y, proba)}
    priors = source_priors(bundle) if label_shift else None
    if priors is not None:
        shifted, target = _prior_shift_scores(proba, priors[order], y, labels)
        result["source-only+priors"] = {**shifted, "priors": target}
    return result


def source_only(bundle, test_df: pd.DataFrame, labels: list) -> dict | None:
    """The base model applied to the target test rows as is (None if the labels differ)."""
    return zero_label_scores(bundle, test_df, labels).get("source-only")


def source_priors(bundle) -> np.ndarray | None:
    """The class shares of the rows the base model was trained on (None if not recorded)."""
    counts = bundle.metrics.get("train_label_counts")
    if not counts or set(counts) != set(bundle.labels):
        return None
    values = np.array([counts[lab] for lab in bundle.labels], dtype=np.float64)
    return values / values.sum() if values.min() > 0 else None


def reference_rows(bundle, splits, baselines=(), seed=0, with_source=True,
                   label_shift=False) -> list[dict]:
    """The rows every strategy is measured against, on the same splits: the zero-label rows
    (see :func:`zero_label_scores`; the ``+priors`` row with `label_shift`) and each of
    `baselines` trained on the labelled rows.

    Each row has ``strategy``, ``n_train``, ``accuracy``, ``roc_auc``, ``seconds``.
    """
    labels, test_df = splits.labels, splits.test
    rows = []
    if with_source:
        for name, result in zero_label_scores(bundle, test_df, labels, label_shift).items():
            priors = result.pop("priors", None)
            rows.append({"strategy": name, "n_train": 0, **result, "seconds": 0.0})
            if priors is not None:
                logger.info("target class priors estimated by EM from unlabelled texts: " +
                            ", ".join(f"{k} {v:.3f}" for k, v in priors.items()))
    labelled = splits.labelled
    for i, name in enumerate(baselines, 1):
        logger.info(f"baseline {i}/{len(baselines)}: {name} on {len(labelled):,} rows")
        tic = time.perf_counter()
        result = baseline_scores(name, labelled, test_df, labels, base=bundle.path, seed=seed)
        rows.append({"strategy": name, "n_train": len(labelled), **result,
                     "seconds": round(time.perf_counter() - tic, 2)})
        logger.info(f"[{name}] test accuracy {result['accuracy']:.4f}")
    return rows


BASELINES = ("tfidf-logreg", "catboost-text", "embedding-logreg")


def parse_baselines(text: str) -> tuple:
    """``"all"``, ``"none"`` or a comma list of :data:`BASELINES` names -> a tuple."""
    if text == "all":
        return BASELINES
    if text in ("none", ""):
        return ()
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in names if s not in BASELINES]
    if unknown:
        import difflib

        near = ([b for b in BASELINES if b.startswith(unknown[0])]
                or difflib.get_close_matches(unknown[0], BASELINES, n=1))
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise DataError(f"unknown baseline {', '.join(map(repr, unknown))}{hint}; choose from "
                        f"{', '.join(BASELINES)}, all, or none")
    return names


def baseline_scores(name: str, train_df, test_df, labels, base=None, seed=0) -> dict:
    """Train baseline `name` on the labelled target rows and score it on the test rows.

    ``embedding-logreg`` is logistic regression on the base model's pooled features.
    """
    from ..sklearn import baselines

    models = {"tfidf-logreg": lambda: baselines.tfidf_logreg(seed),
              "catboost-text": lambda: baselines.CatBoostText(random_state=seed),
              "embedding-logreg": lambda: baselines.embedding_logreg(str(base), "pooling", seed)}
    if name not in models:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(models)}")
    y_train = encode_labels(train_df["label"], labels, "target")
    y_test = encode_labels(test_df["label"], labels, "target")
    return baselines.fit_score(models[name](), train_df["text"], y_train, test_df["text"],
                               y_test)


def run_rows(metrics: dict) -> list[dict]:
    """Comparison rows of one :func:`transfer` run: its own, plus its scratch check if any."""
    n_train = metrics["n_train"] + metrics["n_val"]
    runs = [metrics] + ([{"strategy": REFERENCE, **metrics["scratch_check"]}]
                        if "scratch_check" in metrics else [])
    if "label_shift" in metrics:
        runs.insert(1, {"strategy": f"{metrics['strategy']}+priors",
                        "train_seconds": metrics["train_seconds"], **metrics["label_shift"]})
    rows = [{"strategy": m["strategy"], "n_train": n_train, "accuracy": m["accuracy"],
             "roc_auc": m["roc_auc"], "seconds": m["train_seconds"]} for m in runs]
    if "cv" in metrics:  # chosen by cross-validation: its time counts, and what it picked
        cv = metrics["cv"]
        shares = cv.get("linear_weights") or {}
        rows[0]["seconds"] = round(rows[0]["seconds"] + cv["seconds"], 2)
        if "picked" not in metrics:  # a plain strategy whose epochs were chosen
            return rows
        rows[0]["picked"] = cv["picked"] + (
            f" ({mix_description(cv.get('network', 'fine-tune'), cv['weight'], shares)})"
            if cv["picked"] in MIXES else "")
    return rows


def marked_table(rows: list[dict]) -> pd.DataFrame:
    """A comparison table with negative transfer marked, warning about each case."""
    table = mark_negative_transfer(pd.DataFrame(rows))
    for line in negative_transfer_warnings(table):
        warn(line)
    return table


def table_of_runs(runs: list[dict]) -> pd.DataFrame:
    """A comparison table from :func:`transfer` metrics; warns about negative transfer."""
    return marked_table([row for m in runs for row in run_rows(m)])


def format_table(table: pd.DataFrame, markdown: bool = True) -> str:
    """A comparison as a markdown table, or (``markdown=False``) as columns aligned for a
    terminal, numbers right-aligned and negative transfer marked ``!`` with a legend."""
    shown = table.copy()
    for col in ("accuracy", "roc_auc"):
        shown[col] = shown[col].map(lambda v: f"{v:.4f}")
    shown["seconds"] = shown["seconds"].map(lambda v: f"{v:.1f}")
    flagged = False
    if "vs_scratch" in shown:
        mark, blank = (" negative transfer", "") if markdown else (" !", "  ")
        flagged = bool(shown["negative_transfer"].any())
        shown["vs_scratch"] = [
            "" if pd.isna(v) else f"{v:+.4f}" + (mark if neg else blank)
            for v, neg in zip(shown["vs_scratch"], shown["negative_transfer"], strict=True)]
        shown = shown.drop(columns="negative_transfer")
    if "picked" in shown:  # the strategies chosen by cross-validation say what they chose
        shown["picked"] = shown["picked"].fillna("")
    rows = [list(map(str, shown.columns))] + [[str(v) for v in row]
                                               for row in shown.itertuples(index=False)]
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join([lines[0], "| " + " | ".join("---" for _ in rows[0]) + " |",
                          *lines[1:]])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    left = {0, *(i for i, c in enumerate(rows[0]) if c == "picked")}  # text columns
    lines = ["  ".join(cell.ljust(w) if i in left else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + (["! negative transfer: below scratch on the same rows"]
                              if flagged else []))
