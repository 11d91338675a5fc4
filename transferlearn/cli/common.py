"""Shared command-line plumbing for the scripts: common flags and error handling."""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

from ..checks import flag_type
from ..errors import TransferLearnError, redact


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """Each flag's default once (a None default is the help text's to explain; an on/off flag
    is off unless given), and the examples at the end kept as written."""

    def _get_help_string(self, action):
        if (action.default is None or action.default is False
                or "default" in (action.help or "")):
            return action.help
        return super()._get_help_string(action)


def data_arguments(parser: argparse.ArgumentParser, what: str, data_flag: bool = True) -> None:
    """The flags that say where the data is and how to read it."""
    if data_flag:
        _data_flag(parser, what)
    _column_flags(parser)


def _data_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--data", default=None,
                        help=f"{what} data: a CSV/TSV/Parquet file (.gz allowed), an aclImdb "
                             "directory or .tar.gz, an s3://bucket/key (or s3://bucket/prefix/)"
                             ", or a bundled data set name; several, comma-separated, are read "
                             f"as one (default: the bundled {what} snippets)")
    parser.add_argument("--label-map", type=label_map, default=None, metavar="JSON",
                        help='several sources: their labels mapped onto one set, e.g. '
                             '\'{"pos": "positive", "neg": "negative"}\'')


def _column_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--text-col", default=None, help="text column (guessed if omitted)")
    parser.add_argument("--label-col", default=None, help="label column (guessed if omitted)")
    from ..config import DataSettings

    setting(parser, "neutral_band", DataSettings,
            help="bundled snippets: drop rows with |score| <= this (0: only exact zeros)")
    parser.add_argument("--categorical", type=column_list, default=None, metavar="COLS",
                        help="categorical columns (comma list, e.g. Device_Used,Browser_Used)"
                             " that get their own embeddings: a token each before the text")
    parser.add_argument("--truthful-only", action="store_true",
                        help="keep only rows whose 'deceptive' column is 'truthful' (Deceptive "
                             "Opinion Spam hotel reviews)")
    storage_arguments(parser)


def storage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-url", default=None,
                        help="S3-compatible endpoint for s3:// locations (MinIO, SeaweedFS, "
                             "...); default: AWS_ENDPOINT_URL or AWS")


LENGTH_BUCKETS_HELP = ("batches of similar-length texts, each padded only to its bucket's "
                       "width: this many buckets; 0: off (default: up to 10 when padding "
                       "fills over 10%% of the id matrix)")


def overwrite_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--overwrite", action="store_true",
                        help="replace output files of the names transferlearn writes even "
                             "when it did not write them (an older version's, a user's); "
                             "other files are never touched")


def training_arguments(parser: argparse.ArgumentParser) -> None:
    """Resume, devices, the distributed kvstore and --overwrite, shared by both training
    scripts."""
    overwrite_argument(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue a killed run from the last checkpoint written in "
                             "OUT/checkpoints (same settings and data required)")
    parser.add_argument("--gpus", type=gpu_list, default=None, metavar="IDS",
                        help="GPU indices, e.g. 0,1: each batch is split across them "
                             "(default: CPU; needs an mxnet-cu* build)")
    parser.add_argument("--kvstore", choices=("device", "dist_sync", "dist_async"),
                        default="device",
                        help="dist_sync/dist_async: run as a worker of a distributed run "
                             "started by transferlearn launch")


def setting(parser, name: str, settings_class, help: str | None = None, **kwargs) -> None:
    """``--<name>`` for the field `name` of a settings class (:mod:`transferlearn.config`):
    its default from there, its type from the bounds table (:mod:`transferlearn.checks`)."""
    from ..config import fields

    if "choices" not in kwargs:
        kwargs["type"] = flag_type(name)
    default = fields(settings_class)[name]
    if help is None and default is not None:  # argparse prints nothing for a flag without help
        help = "(default: %(default)s)"
    parser.add_argument(f"--{name.replace('_', '-')}", default=default, help=help, **kwargs)


def column_list(text: str) -> list:
    columns = [part.strip() for part in text.split(",") if part.strip()]
    if not columns:
        raise argparse.ArgumentTypeError(f"expected column names such as A,B, got {text!r}")
    return columns


def _json_object(text: str, value_type: type, expected: str) -> dict:
    """A JSON object whose values are all `value_type`, or one argparse error line."""
    import json

    try:
        value = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not (isinstance(value, dict) and all(isinstance(v, value_type) for v in value.values())):
        raise argparse.ArgumentTypeError(f"expected {expected}")
    return value


def label_map(text: str) -> dict:
    """``'{"pos": "positive"}'`` -> the dict, checked."""
    return _json_object(text, str, '{"their label": "shared label", ...}')


def category_map(text: str) -> dict:
    """``'{"Device_Used": {"Tablet": "Mobile"}}'`` -> the dict, checked."""
    return _json_object(text, dict, '{"column": {"new value": "base value"}}')


def gpu_list(text: str) -> list:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ids = []
    if not ids or min(ids) < 0:
        raise argparse.ArgumentTypeError(f"expected GPU indices such as 0 or 0,1, got {text!r}")
    return ids


def run(main_body, argv, parser: argparse.ArgumentParser) -> int:
    """Parse `argv`, call ``main_body(args)``; turn user errors into one line and exit 2."""
    one_line_errors(parser)
    args = parser.parse_args(argv)
    if getattr(args, "endpoint_url", None):
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url  # boto3's standard setting
    try:
        main_body(args)
        sys.stdout.flush()
    except TransferLearnError as exc:
        return _error(" ".join(str(exc).splitlines()))  # one line
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader has what it wanted, as with Unix tools
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        target = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        return _error(f"{exc.strerror or exc}{target}")
    return 0


def _error(message: str) -> int:
    """Print one ``error:`` line (no URL userinfo, the user's names for local copies)."""
    from ..io.storage import user_facing

    print(redact(f"error: {user_facing(message)}"), file=sys.stderr)
    return 2


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make `parser` report a bad flag as one ``error:`` line (exit 2), not a usage dump."""

    def error(message: str):
        print(f"error: {message} (see {parser.prog} --help)", file=sys.stderr)
        sys.exit(2)

    parser.error = error  # type: ignore[method-assign]
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for sub in getattr(action, "choices", {}).values():  # `data get`, `data describe`
            one_line_errors(sub)
