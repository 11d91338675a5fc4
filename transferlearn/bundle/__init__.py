"""The model bundle: saving and loading it (store) and the checks every file of one passes
before anything is built from it (schema). It sits above ``data`` and ``model``, whose
pipelines and networks it holds, and above ``io``, where it is written.

Code imports from the modules; this list is the public part.
"""
from .schema import SchemaError
from .store import Bundle, export_model, load_bundle, save_bundle

__all__ = ["Bundle", "SchemaError", "export_model", "load_bundle", "save_bundle"]
