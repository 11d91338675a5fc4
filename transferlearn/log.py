"""Messages go through :mod:`logging`, on the ``transferlearn`` logger.

With ``verbose=True`` (the default of every run, and what the scripts use) a run shows its
INFO messages on stdout, through ``tqdm.write`` so that they never break a progress bar;
:func:`verbosity` attaches that console for the run's duration and removes it after. With
``verbose=False`` nothing is attached and the messages go wherever the application's own
logging configuration sends them (nowhere, by default)::

    import logging
    logging.basicConfig(level=logging.INFO)  # the messages of quiet runs, with the app's
"""
from __future__ import annotations

import contextlib
import logging
import sys

logger = logging.getLogger("transferlearn")
logger.addHandler(logging.NullHandler())  # no "last resort" stderr copy of quiet runs


class _Console(logging.Handler):
    """INFO and above to the current ``sys.stdout`` (so captured output sees it too)."""

    def emit(self, record: logging.LogRecord) -> None:
        from tqdm.auto import tqdm

        try:
            tqdm.write(self.format(record), file=sys.stdout)
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def verbosity(verbose: bool):
    """For the duration of a run: messages on stdout when `verbose`, silence otherwise (an
    outer verbose run's console is turned down for a quiet inner one)."""
    ours = next((h for h in logger.handlers if isinstance(h, _Console)), None)
    if ours is not None:
        before = ours.level
        ours.setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
        try:
            yield
        finally:
            ours.setLevel(before)
        return
    if not verbose:
        yield
        return
    console = _Console(logging.INFO)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(console)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # shown once, here, not again by the application's handlers
    try:
        yield
    finally:
        logger.removeHandler(console)
        logger.setLevel(level)
        logger.propagate = propagate


def warn(message: str) -> None:
    """A warning the user must see even from a quiet run: stdout, and the logger."""
    logger.warning(message)
    if not any(isinstance(h, _Console) and h.level <= logging.WARNING
               for h in logger.handlers):
        print(message, flush=True)


__all__ = ["logger", "verbosity", "warn"]
