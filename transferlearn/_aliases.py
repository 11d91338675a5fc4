"""The flat module names of version 1 (``transferlearn.train``, ``transferlearn.workflow``, ...)
as aliases of where their code lives now, so that old imports keep working.

``import transferlearn.train`` gives the module object of :mod:`transferlearn.training`
itself (not a copy), so monkeypatching through an old name patches the real module.
Modules are imported on first use only.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

# old name -> new home (a module, or a subpackage that re-exports the old module's names)
MOVED = {
    "adaptation": "transfer.adaptation", "baselines": "sklearn.baselines",
    "bundle_schema": "bundle.schema", "checkpoint": "io.checkpoint",
    "crossarch": "transfer.crossarch", "curves": "experiments.curves",
    "datacmd": "cli.data", "distributed": "training.distributed",
    "embeddings": "experiments.embeddings", "estimator": "sklearn.estimator",
    "launch": "cli.launch", "persistence": "bundle.store", "s3": "io.s3",
    "storage": "io.storage", "strategies": "transfer.strategies", "text": "data.text",
    "train": "training", "workflow": "experiments",
    # version 2's first homes of the bundle, before it moved above data and model
    "io.bundle": "bundle.store", "io.bundle_schema": "bundle.schema",
}


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``<package>.<old name>`` to the module at its new home."""

    def __init__(self, package: str):
        self.package = package
        self._specs: dict = {}

    def find_spec(self, fullname, path=None, target=None):
        if self._old_name(fullname) not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def _old_name(self, fullname: str) -> str | None:
        """``transferlearn.io.bundle`` -> ``io.bundle``; None outside the package."""
        prefix = f"{self.package}."
        return fullname[len(prefix):] if fullname.startswith(prefix) else None

    def create_module(self, spec):
        module = importlib.import_module(f"{self.package}.{MOVED[self._old_name(spec.name)]}")
        self._specs[spec.name] = module.__spec__
        return module

    def get_code(self, fullname):
        """``python -m <package>.<old name>`` runs the module at its new home as __main__."""
        new = f"{self.package}.{MOVED[self._old_name(fullname)]}"
        return compile(f"import runpy\nrunpy.run_module({new!r}, run_name='__main__', "
                       "alter_sys=True)\n", fullname, "exec")

    def exec_module(self, module):
        # the import system set the alias's spec on the real module; give it back its own
        module.__spec__ = self._specs.get(module.__spec__.name, module.__spec__)


def install(package: str) -> None:
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder(package))
