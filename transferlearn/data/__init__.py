"""Data sets as ``DataFrame(text, label[, split])``: readers, splits and the sklearn text
transformers.

Code imports from the modules; this list is the public part.
"""
from .formats import detect_format, read_aclimdb, read_snippets, read_table
from .loading import encode_labels, load_data, load_settings_data, read_options
from .pipeline import TextPipeline, make_pipeline
from .readers import BUNDLED, DATA_DIR, load_dataset, with_categories
from .splits import Splits, make_splits, split_train_test, take_labelled
from .text import (
    DEFAULT_TOKEN_PATTERN,
    LowerCaser,
    NullImputer,
    Padder,
    Tok2Idx,
    TokenIndexer,
    Tokenize,
    Tokenizer,
    Vocabulary,
)

__all__ = ["BUNDLED", "DATA_DIR", "DEFAULT_TOKEN_PATTERN", "LowerCaser", "NullImputer", "Padder",
           "Splits", "TextPipeline", "Tok2Idx", "TokenIndexer", "Tokenize", "Tokenizer",
           "Vocabulary", "detect_format", "encode_labels", "load_data", "load_dataset",
           "load_settings_data", "make_pipeline", "make_splits", "read_aclimdb", "read_options",
           "read_snippets", "read_table", "split_train_test", "take_labelled",
           "with_categories"]
