"""The type stubs (.pyi) describe every public name of the module, and nothing that is not there."""
import ast
import pathlib

import agrad
from agrad import nn

STUBS = pathlib.Path(agrad.__file__).parent


def stub_names(path):
    tree = ast.parse(path.read_text())
    top, members = set(), {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            top.add(node.name)
        if isinstance(node, ast.ClassDef):
            members[node.name] = {
                n.name if isinstance(n, ast.FunctionDef) else n.target.id if isinstance(n, ast.AnnAssign) else n.targets[0].id
                for n in node.body
                if isinstance(n, (ast.FunctionDef, ast.AnnAssign)) or (isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name))
            }
        elif isinstance(node, ast.AnnAssign):
            top.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and node.module is None:
            top.update(a.asname or a.name for a in node.names)
    return top, members


def public(obj):
    return {n for n in dir(obj) if not n.startswith("_")}


# Bound only where the engine has ag::explain: described by the stub either way.
OPTIONAL = {"Explanation", "ExplainPath", "ExplainFactor", "AdjointTerm", "TraceStep", "BackwardTrace"}


def check(module, path):
    top, members = stub_names(path)
    missing = public(module) - top - {"annotations"}
    assert not missing, f"{path.name} lacks {sorted(missing)}"
    for cls, names in members.items():
        runtime = getattr(module, cls, None)
        if runtime is None and cls in OPTIONAL and not hasattr(module, "explain"):
            continue
        assert runtime is not None, f"{path.name} describes {cls}, which agrad lacks"
        if isinstance(runtime, type) and not issubclass(runtime, BaseException) and not hasattr(runtime, "__members__"):
            own = {n for n in vars(runtime) if not n.startswith("_")}
            assert own <= names | {"__init__"}, f"{cls}: stub lacks {sorted(own - names)}"
            extra = {n for n in names if not hasattr(runtime, n)}
            assert not extra, f"{cls}: stub has extra {sorted(extra)}"


def test_package_stub_covers_the_module():
    check(agrad, STUBS / "__init__.pyi")


def test_nn_stub_covers_agrad_nn():
    check(nn, STUBS / "nn.pyi")
