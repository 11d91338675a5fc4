"""The package's shape: subpackages by concern whose imports run one way (cli -> experiments
-> sklearn -> transfer -> training -> bundle -> model -> data -> io -> errors/checks/config),
folder by folder (a folder's ``__init__`` counts: importing any module runs it), no import
cycles (module-level or deferred inside functions), no function over 60 lines and no module
over 400, and version 1's flat module names still importable."""
from __future__ import annotations

import ast
import importlib

import pytest
from conftest import LAYERS, ROOT

PACKAGE = ROOT / "transferlearn"


def modules() -> dict[str, ast.Module]:
    """Dotted module name under the package (``bundle.store``, ``errors``, ``io.__init__``)
    -> its syntax tree; ``__main__`` files only run, and are left out."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.stem == "__main__":
            continue
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        found[name] = ast.parse(path.read_text(), str(path))
    return found


def _is_main_block(node: ast.AST) -> bool:
    """``if __name__ == "__main__":`` runs only as a script, never on import."""
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def _resolve(module: str, node: ast.ImportFrom, known: set[str]) -> set[str]:
    """The package modules an ``from ... import`` in `module` names."""
    if node.level:
        package = module.split(".")[:-1]
        if node.level > 1:
            package = package[:len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    elif (node.module or "").startswith("transferlearn"):
        base = node.module.removeprefix("transferlearn").lstrip(".")
    else:
        return set()
    found = set()
    for alias in node.names:
        full = f"{base}.{alias.name}" if base else alias.name
        if full in known:  # from .io import s3
            found.add(full)
        elif f"{full}.__init__" in known:  # from .. import experiments: the package itself
            found.add(f"{full}.__init__")
        elif base in known:  # from .io.s3 import fetch
            found.add(base)
        else:  # from .io import load_bundle (a package's re-export): any module below base
            found |= {k for k in known if k.startswith(f"{base}.")}
    return found


def imports_of(module: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The package modules `tree` imports anywhere (functions included)."""
    found: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if _is_main_block(node):
            continue
        if isinstance(node, ast.ImportFrom):
            found |= _resolve(module, node, known)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("transferlearn."):
                    found.add(alias.name.removeprefix("transferlearn."))
        stack.extend(ast.iter_child_nodes(node))
    return found - {module}


def graph() -> dict[str, set[str]]:
    trees = modules()
    return {name: imports_of(name, tree, set(trees)) for name, tree in trees.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(module: str) -> int:
    return LAYERS[module.split(".")[0] if "." in module else ""]


def test_no_import_cycles():
    g = graph()
    assert cycles(g) == []
    # the checker does see real imports, relative and deferred ones included
    assert {"io.storage", "model.network", "data.text"} <= g["bundle.store"]
    assert "io.s3" in g["io.storage"]  # a deferred import inside a function
    assert "data.loading" in g["data.__init__"]  # a folder's __init__ is checked too
    assert "experiments.__init__" in g["cli.transfer"]  # and importing a package runs it
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_imports_run_one_way():
    upward = sorted(f"{name} -> {dep}" for name, deps in graph().items() for dep in deps
                    if layer(dep) > layer(name))
    assert upward == []
    assert set(LAYERS) - {""} == {p.name for p in PACKAGE.iterdir()
                                  if (p / "__init__.py").exists()}


def test_no_function_over_60_lines_and_no_module_over_400():
    long = set()
    for name, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 > 60:
                    long.add(f"{name}.{node.name}")
    assert long == set()
    sizes = {name: len((PACKAGE / (name.replace(".", "/") + ".py")).read_text().splitlines())
             for name in modules()}
    assert {name: n for name, n in sizes.items() if n > 400} == {}


@pytest.mark.parametrize("old", ["train", "workflow", "persistence", "text", "strategies",
                                 "s3", "storage", "estimator", "baselines", "embeddings"])
def test_version_1_module_names_still_import(old):
    from transferlearn import _aliases

    module = importlib.import_module(f"transferlearn.{old}")
    assert module is importlib.import_module(f"transferlearn.{_aliases.MOVED[old]}")
    import transferlearn

    assert getattr(transferlearn, old) is module  # as an attribute too
    assert module.__spec__.name == f"transferlearn.{_aliases.MOVED[old]}"  # its own spec kept


@pytest.mark.parametrize("old", ["io.bundle", "io.bundle_schema"])
def test_the_bundles_first_version_2_homes_still_import(old):
    from transferlearn import _aliases

    module = importlib.import_module(f"transferlearn.{old}")
    assert module is importlib.import_module(f"transferlearn.{_aliases.MOVED[old]}")
    assert module.__spec__.name == f"transferlearn.{_aliases.MOVED[old]}"
    assert not hasattr(importlib.import_module("transferlearn"), old)  # no dotted attribute


def test_the_public_names_load_on_first_use():
    import transferlearn

    assert set(transferlearn.__all__) <= set(dir(transferlearn))
    for name in transferlearn.__all__:
        assert getattr(transferlearn, name) is not None
    assert transferlearn.load_bundle is importlib.import_module(
        "transferlearn.bundle.store").load_bundle
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        transferlearn.nothing_here  # noqa: B018
