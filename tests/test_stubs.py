"""The engines' stubs (.pyi) describe what the engines and their twins really take.

``mypy.stubtest`` holds each stub to its compiled module: names, kinds,
signatures where the engine has one to read. Where it has none (``__init__``,
the ``binding(False)`` fast methods, slot methods), the second test holds the
stub to the pure twin's signature, which the twin-parity tests hold to the
engine's behaviour.
"""

import ast
import importlib
import inspect
import os
import pathlib
import subprocess
import sys

import pytest

from conftest import PURE_ONLY

PACKAGE = pathlib.Path(importlib.import_module("mooncake").__file__).parent
ALLOWLIST = pathlib.Path(__file__).with_name("stubtest-allowlist.txt")

#: stub, relative to the package -> (compiled module, module holding the twins)
STUBS = {
    "cache/_engine.pyi": ("mooncake.cache._engine", "mooncake.cache.twin"),
    "monitor/_engine.pyi": ("mooncake.monitor._engine", "mooncake.monitor.twin"),
    "shared/_near_front.pyi": ("mooncake.shared._near_front", "mooncake.shared.near_front"),
}


@pytest.mark.skipif(PURE_ONLY, reason="MOONCAKE_PURE_PYTHON=1: no compiled module to hold the stubs to")
def test_stubtest_finds_the_stubs_true_to_the_engines(tmp_path):
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "mypy-cache"))
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "--allowlist", str(ALLOWLIST),
         *(module for module, _ in STUBS.values())],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def stub_classes(stub):
    tree = ast.parse((PACKAGE / stub).read_text())
    return [node for node in tree.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_")]


def decorator_names(node):
    return {ast.unparse(d) for d in node.decorator_list}


def stub_parameters(function):
    """``(name, kind, default)`` for each parameter; default is ``...`` when the stub
    leaves it out, ``inspect.Parameter.empty`` when there is none."""
    args = function.args
    positional = [(a, inspect.Parameter.POSITIONAL_ONLY) for a in args.posonlyargs]
    positional += [(a, inspect.Parameter.POSITIONAL_OR_KEYWORD) for a in args.args]
    defaults = [inspect.Parameter.empty] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = [(a.arg, kind, default) for (a, kind), default in zip(positional, defaults)]
    if args.vararg:
        params.append((args.vararg.arg, inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.empty))
    for a, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append((a.arg, inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.empty if default is None else default))
    if args.kwarg:
        params.append((args.kwarg.arg, inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty))
    return [(name, kind, default if default is inspect.Parameter.empty else ast.literal_eval(default))
            for name, kind, default in params]


def twin_parameters(function):
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def same_parameters(stubbed, real):
    """Same names and kinds, a default on the same ones, equal where the stub writes it out."""
    if [(name, kind) for name, kind, _ in stubbed] != [(name, kind) for name, kind, _ in real]:
        return False
    empty = inspect.Parameter.empty
    return all(
        (stub_default is empty) == (real_default is empty)
        and (stub_default in (empty, ...) or stub_default == real_default)
        for (_, _, stub_default), (_, _, real_default) in zip(stubbed, real)
    )


STUB_CASES = [
    pytest.param(stub, twin_module, cls.name, id=f"{twin_module}.{cls.name}")
    for stub, (_, twin_module) in STUBS.items()
    for cls in stub_classes(stub)
]


@pytest.mark.parametrize(("stub", "twin_module", "name"), STUB_CASES)
def test_stub_signatures_are_the_twins(stub, twin_module, name):
    twin = getattr(importlib.import_module(twin_module), name)
    (cls,) = [node for node in stub_classes(stub) if node.name == name]
    mismatches = []
    functions = {}
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_") and not node.name.startswith("__"):
            continue  # a private hook of the engine (a debug build's checks), not the API
        if isinstance(node, ast.FunctionDef):
            functions.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.AnnAssign) and not hasattr(twin, node.target.id):
            mismatches.append((node.target.id, "not an attribute of the twin"))
    for method, nodes in functions.items():
        member = inspect.getattr_static(twin, method, None)
        if member is None:
            mismatches.append((method, "not in the twin"))
        elif "property" in decorator_names(nodes[0]):
            if not isinstance(member, property):
                mismatches.append((method, "a property in the stub only"))
        elif "overload" in decorator_names(nodes[0]):
            # Overloads split one signature: together they name the twin's parameters.
            longest = max((stub_parameters(node) for node in nodes), key=len)
            if [p[0] for p in longest] != [p[0] for p in twin_parameters(member)]:
                mismatches.append((method, longest, twin_parameters(member)))
        elif not same_parameters(stub_parameters(nodes[0]), twin_parameters(member)):
            mismatches.append((method, stub_parameters(nodes[0]), twin_parameters(member)))
    assert mismatches == []


@pytest.mark.parametrize(("stub", "twin_module", "name"), STUB_CASES)
def test_stub_names_every_public_member_of_the_twin(stub, twin_module, name):
    twin = getattr(importlib.import_module(twin_module), name)
    (cls,) = [node for node in stub_classes(stub) if node.name == name]
    stubbed = {node.name for node in cls.body if isinstance(node, ast.FunctionDef)}
    stubbed |= {node.target.id for node in cls.body if isinstance(node, ast.AnnAssign)}
    public = {member for member in dir(twin) if not member.startswith("_")}
    assert sorted(public - stubbed) == []
