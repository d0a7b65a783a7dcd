"""A griffe extension: give the compiled engines' stubs the engines' own docstrings.

griffe reads a compiled module's ``.pyi`` stub, which carries the types but no
docstrings; the docstrings live in the compiled module (and, identical, in its
pure twin: tests/test_twin_parity.py). This copies each class's and member's
``__doc__`` from the imported engine onto the stub's objects, so the API
reference shows the stub's annotations with the engine's words.
"""

import importlib
import inspect

import griffe

ENGINES = ("mooncake.cache._engine", "mooncake.monitor._engine")


class EngineDocstrings(griffe.Extension):
    def on_package(self, *, pkg, **kwargs):
        if pkg.name != "mooncake":
            return
        for path in ENGINES:
            stub = pkg.get_member(path.split(".", 1)[1])
            runtime = importlib.import_module(path)
            for name, cls in stub.classes.items():
                real = getattr(runtime, name, None)
                if real is None:
                    continue
                _set(cls, real.__doc__)
                for member_name, member in cls.members.items():
                    if member.is_alias or member_name == "__init__":  # a type slot: its __doc__ is the generic one
                        continue
                    _set(member, getattr(inspect.getattr_static(real, member_name, None), "__doc__", None))


def _set(obj, text):
    if text and not obj.docstring:
        obj.docstring = griffe.Docstring(inspect.cleandoc(text), parent=obj)
