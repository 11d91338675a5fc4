"""Transfer a base model bundle to a target data set with one or more strategies.

Example:
    python scripts/transfer.py --base runs/base --data hotel.csv --strategy fine-tune \
        --out runs/hotel
With no --data it uses the bundled Amazon product review snippets. With several strategies
(comma-separated, or "all") each one's bundle goes to OUT/<strategy> and a comparison table
with the baselines (the base model as is, TF-IDF + logistic regression, CatBoost on the
texts, logistic regression on the base model's features) is printed.
"""
from __future__ import annotations

import argparse
import sys

from ..config import TransferRun
from ..transfer import strategies as registry
from .common import (
    LENGTH_BUCKETS_HELP,
    HelpFormatter,
    category_map,
    data_arguments,
    flag_type,
    run,
    setting,
    training_arguments,
)

EXAMPLES = """\
examples:
  transferlearn transfer --base runs/base --strategy auto --train-size 500 --out runs/t
  transferlearn transfer --base runs/base --strategy all --train-size 500 --out runs/cmp
  transferlearn transfer --base runs/base --strategy fine-tune,auto --curve 100,500,all \\
      --repeats 3 --baselines tfidf-logreg --out runs/curve
"""

def strategies(text: str) -> tuple:
    """``--strategy``: registered names, a comma list, or ``all`` (the registry says which)."""
    from ..errors import DataError

    if text.strip() == "all":
        return registry.default_names()
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected strategy names, got {text!r}")
    try:
        return tuple(registry.canonical(name) for name in names)
    except DataError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, a comma-separated list, or all") from None


def target_arch(args) -> dict | None:
    """The --target-* sizes given, or None (the default: the base's architecture)."""
    sizes = {"encoder": args.target_encoder, "embed_dim": args.target_embed_dim,
             "hidden_size": args.target_hidden_size, "num_filters": args.target_num_filters}
    return {k: v for k, v in sizes.items() if v is not None} or None


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0],
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    p.add_argument("--base", default=TransferRun.base,
                   help="base model bundle directory (local, or s3://bucket/prefix)")
    data_arguments(p, "target")
    p.add_argument("--strategy", type=strategies, default=(TransferRun.strategy,),
                   help="; ".join(f"{s.name}: {s.help}" for s in registry.REGISTRY.values())
                        + f"; a comma list, or all ({', '.join(registry.default_names())}) "
                          f"(default: {TransferRun.strategy})")
    p.add_argument("--out", default=TransferRun.out,
                   help="output directory (local, or s3://bucket/prefix)")
    p.add_argument("--markdown", action="store_true",
                   help="print the results table as markdown (the default when the output "
                        "is not a terminal); a terminal gets aligned columns")
    setting(p, "train_size", TransferRun,
            help="labelled target rows to train on (validation included); default all; 0 "
                 f"(no target label) for {', '.join(registry.adapting_names())}")
    setting(p, "vocab_mode", TransferRun, choices=("extend", "target"),
            help="extend: source tokens + new target tokens; target: target only")
    for name in ("epochs", "batch_size", "lr", "weight_decay"):
        setting(p, name, TransferRun)
    setting(p, "monitor", TransferRun, choices=("loss", "accuracy", "roc_auc"),
            help="validation figure that picks the best epoch")
    setting(p, "body_lr_mult", TransferRun,
            help="fine-tune: learning-rate factor for embedding and encoder")
    setting(p, "head_lr_mult", TransferRun,
            help="feature-extract: learning-rate factor for the new output layer")
    setting(p, "discriminative_factor", TransferRun,
            help="gradual: each lower layer group's learning rate is divided by this")
    for name in ("patience", "val_size", "test_size", "seed"):
        setting(p, name, TransferRun)
    setting(p, "length_buckets", TransferRun, help=LENGTH_BUCKETS_HELP)
    _selection_flags(p)
    p.add_argument("--curve", default=None, metavar="SIZES",
                   help="learning curve: labelled target rows to try, e.g. 100,200,500,all; "
                        "writes OUT/curve.csv, OUT/curve.md and --curve-plot")
    p.add_argument("--repeats", type=flag_type("repeats"), default=3,
                   help="learning curve: seeds per size")
    p.add_argument("--curve-plot", default=None, metavar="PNG",
                   help="learning curve figure (default: OUT/curve.png)")
    p.add_argument("--baselines", default=None,
                   help="baselines beside the strategies, on the same rows: a comma list of "
                        "tfidf-logreg, catboost-text, embedding-logreg, all, or none "
                        "(default: all with several strategies or a curve, none with one)")
    p.add_argument("--no-scratch-check", action="store_true",
                   help="one strategy: skip the scratch model trained to detect negative "
                        "transfer")
    _strategy_groups(p)
    p.add_argument("--category-map", type=category_map, default=None, metavar="JSON",
                   help='with --categorical: start new categories at a base category\'s '
                        'vector, e.g. \'{"Device_Used": {"Tablet": "Mobile"}}\'')
    p.add_argument("--label-shift", action="store_true",
                   help="after each strategy, re-estimate the target class priors by EM on "
                        "the unlabelled test texts and add a <strategy>+priors row")
    p.add_argument("--tsne", default=None, metavar="PNG",
                   help="write a t-SNE figure of source vs target features to this file")
    training_arguments(p)
    p.add_argument("--quiet", action="store_true", help="no progress output")
    return p


def _strategy_groups(p: argparse.ArgumentParser) -> None:
    """The flags of the strategies that take more than rates: sizes, distillation, domain
    adaptation."""
    arch = p.add_argument_group("cross-arch / distill: target (student) network sizes that "
                                "differ from the base's (teacher's)")
    arch.add_argument("--target-encoder", choices=("cnn", "bilstm", "mean"), default=None)
    for flag in ("embed-dim", "hidden-size", "num-filters"):
        arch.add_argument(f"--target-{flag}", type=flag_type(flag.replace("-", "_")),
                          default=None)
    setting(arch, "temperature", TransferRun, help="distill: softening of the teacher's outputs")
    setting(arch, "alpha", TransferRun,
            help="distill: weight of the teacher's targets (1 - alpha: the labels)")
    adapt = p.add_argument_group("dann / coral / mmd / joint / prior / blend: learning "
                                 "from source rows")
    adapt.add_argument("--unlabeled", default=None, metavar="TEXTS",
                       help="more unlabelled target texts: a .txt file (one per line) or a "
                            "table with a text column (the unused target rows always count)")
    adapt.add_argument("--source-data", default=None,
                       help="labelled source rows (default: the data the base was trained on); "
                            "prior / blend: a comma list gives a source model each, and their "
                            "labels may differ from the target's")
    setting(adapt, "source_rows", TransferRun,
            help="dann / coral / mmd / joint: at most this many source rows (stratified "
                 "sample; prior and blend read them all)")
    setting(adapt, "adapt_weight", TransferRun, help="weight of the alignment loss")
    setting(adapt, "target_share", TransferRun,
            help="joint: the target rows are repeated to make this share of the training rows")


def _selection_flags(p) -> None:
    setting(p, "cv_folds", TransferRun,
            help="auto / ensemble / prior / blend / --select-epochs cv: cross-validation "
                 "folds of the labelled rows")
    setting(p, "select_epochs", TransferRun, choices=("auto", "cv", "validation"),
            help="how a strategy's epochs are chosen: cv (folds of the labelled rows, then a "
                 "refit on all of them), validation (early stopping), auto (cv when the "
                 "validation split has under 100 rows)")


def _single(args, common: dict, baselines: tuple):
    """One strategy (its scratch check unless told not to), and the baselines asked for on
    the same rows; the comparison table, or None on a worker other than rank 0."""
    from .. import experiments as workflow
    from ..bundle.store import load_bundle
    from ..data.loading import data_name
    from ..data.readers import DEFAULT_TARGET
    from ..training import distributed

    m = workflow.transfer(out=args.out, strategy=args.strategy[0],
                          scratch_check=not args.no_scratch_check, resume=args.resume,
                          kvstore=args.kvstore, categorical=args.categorical,
                          category_map=args.category_map, **common)
    if distributed.rank(args.kvstore) != 0:
        return None
    rows: list = []
    if baselines or args.tsne:
        splits = workflow.target_splits(categorical=args.categorical, **common)
    if baselines:
        rows = workflow.reference_rows(load_bundle(args.base), splits, baselines,
                                       seed=args.seed, label_shift=args.label_shift)
    if args.tsne and args.out is not None:  # the figure beside the bundle; OUT unchanged
        workflow.tsne_figure(load_bundle(args.base), load_bundle(args.out), splits.test,
                             path=args.tsne, seed=args.seed, title=args.strategy[0],
                             verbose=not args.quiet,
                             target_name=data_name(args.data or DEFAULT_TARGET),
                             overwrite=args.overwrite)
    return workflow.marked_table(rows + workflow.run_rows(m))


def main(argv=None, prog: str | None = None) -> int:
    parser = build_parser(prog)

    def body(args):
        from .. import experiments as workflow
        from ..config import fields
        from ..errors import TransferLearnError

        skip = {"out", "strategy", "scratch_check", "resume", "kvstore", "categorical",
                "category_map", "target_arch", "verbose"}
        common = {k: getattr(args, k) for k in fields(TransferRun)
                  if k not in skip and hasattr(args, k)}
        common.update(target_arch=target_arch(args), verbose=not args.quiet)
        single = len(args.strategy) == 1 and not args.curve  # --tsne: OUT is the bundle still
        baselines = workflow.parse_baselines(args.baselines or ("none" if single else "all"))
        if (args.resume or args.kvstore != "device" or args.categorical) and not single:
            raise TransferLearnError("--resume, --kvstore and --categorical apply to a single "
                                     "strategy (no --curve, one --strategy)")
        if args.curve:
            common.pop("train_size")
            plot = args.curve_plot or True  # True: OUT/curve.png
            workflow.learning_curve(out=args.out, sizes=workflow.parse_sizes(args.curve),
                                    repeats=args.repeats, strategies=args.strategy,
                                    baselines=baselines, plot=plot, **common)
            print(f"\nresults in {args.out}")
            return
        if single:
            table = _single(args, common, baselines)
            if table is None:
                return  # rank 0 prints the results
        else:
            table = workflow.compare(out=args.out, strategies=args.strategy, tsne=args.tsne,
                                     baselines=baselines, **common)
        markdown = args.markdown or not sys.stdout.isatty()  # a file gets markdown
        print("\n" + workflow.format_table(table, markdown=markdown))
        print(f"\nresults in {args.out}")

    return run(body, argv, parser)


if __name__ == "__main__":
    sys.exit(main())
