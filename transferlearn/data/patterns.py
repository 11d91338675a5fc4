"""Tokenizer patterns: the package's named ones, and compiling any other so that it runs in
time linear in the text (a bundle's pattern can come from anywhere)."""
from __future__ import annotations

import re
import string

# Words (keeping inner apostrophes: "don't", "he's") or single punctuation marks.
DEFAULT_TOKEN_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"
# Named tokenizer patterns: a Tokenizer takes a name or a regex. These run on Python's `re`
# (Unicode \w); any other pattern runs on RE2 (see compile_pattern).
TOKEN_PATTERNS = {"words": DEFAULT_TOKEN_PATTERN, "whitespace": r"\S+"}
# Split patterns the package ships: the blog's Tokenize default and the walkthrough's.
SPLIT_PATTERNS = {"whitespace": r"\s+", "non-word": r"\W+"}
# The blog's Tokenize pattern: each punctuation mark becomes a token of its own.
BLOG_PATTERN = f"([{re.escape(string.punctuation)}])"
KNOWN_PATTERNS = (frozenset(TOKEN_PATTERNS.values()) | frozenset(SPLIT_PATTERNS.values())
                  | {BLOG_PATTERN, f"([{string.punctuation}])"})


def compile_pattern(pattern: str):
    """A compiled tokenizer regex that runs in time linear in the text.

    The package's named patterns (:data:`KNOWN_PATTERNS`) run on Python's ``re``. Any other
    runs on RE2 (``google-re2``), whose matching time is linear whatever the pattern, so a
    pattern from a bundle cannot hang a process, in training or in serving alike. RE2 has no
    backreferences or lookaround, and its ``\\w``, ``\\d`` and ``\\s`` are ASCII (write
    ``[\\p{L}\\p{N}_]`` for Unicode word characters).

    Raises
    ------
    ValueError
        If the pattern is not a regular expression, or RE2 cannot compile it (one line).
    """
    if pattern in KNOWN_PATTERNS:
        return re.compile(pattern)
    try:
        re.compile(pattern)  # compiling runs nothing; it names syntax errors as Python does
    except re.error as exc:
        raise ValueError(f"pattern {pattern[:60]!r} is not a valid regular expression "
                         f"({exc})") from None
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print to stderr besides raising
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(f"pattern {pattern[:60]!r} cannot run in linear time (RE2: "
                         f"{reason}); backreferences and lookaround are not supported") \
            from None


__all__ = ["BLOG_PATTERN", "DEFAULT_TOKEN_PATTERN", "KNOWN_PATTERNS", "SPLIT_PATTERNS",
           "TOKEN_PATTERNS", "compile_pattern"]
