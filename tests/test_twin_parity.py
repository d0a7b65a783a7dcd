"""Each Cython engine and its pure-Python twin show one API.

The twins are not copies of each other; this file is what holds them
together. For every engine/twin pair it compares the public names (plus the
protocol methods that matter), the signatures and the docstrings of the class
and of every public member, and the shape of the objects (can they be
subclassed, weakly referenced, given new attributes, pickled).

Where the engine's text is wrong and the twin already holds the intended one,
the pair is listed in ``ENGINE_DOCS_PENDING``: an expected failure until the
engine's docstring is changed, and a failure again (strict) once it has been,
so that the entry is removed.
"""

import copy
import importlib
import inspect
import pickle
import re
import types
import weakref

import pytest

from conftest import PURE_ONLY

#: pair id -> (engine module, twin module, class name)
PAIRS = {
    "cache": ("mooncake.cache._engine", "mooncake.cache.twin", "SimpleMooncake"),
    "monitor": ("mooncake.monitor._engine", "mooncake.monitor.twin", "SimpleMonitor"),
    "monitor-lock": ("mooncake.monitor._engine", "mooncake.monitor.lock", "MonitorLock"),
    "near-front": ("mooncake.shared._near_front", "mooncake.shared.near_front", "NearFront"),
}

#: Protocol methods compared besides the public names, where either side has them.
PROTOCOL = (
    "__len__", "__contains__", "__iter__", "__reversed__", "__getitem__", "__setitem__",
    "__delitem__", "__enter__", "__exit__", "__reduce__", "__setstate__", "__repr__",
)

#: Engine docstrings to change (the twin holds the intended text); see the module docstring.
ENGINE_DOCS_PENDING = {}

#: Engine constructors that take more than the twin's.
CONSTRUCTOR_PENDING = {}

#: Where the object shapes still differ (the twin allows more than the engine).
SHAPE_PENDING = {}

BINDING_FALSE = (
    "compiled with @cython.binding(False) (CPython's fast method call), which carries no "
    "signature; the stub and the call probe below hold it instead"
)
SLOT_WITH_DOC = (
    "a slot method with a docstring of its own loses CPython's text signature; "
    "the slot protocol fixes how Python calls it"
)

needs_engine = pytest.mark.skipif(PURE_ONLY, reason="MOONCAKE_PURE_PYTHON=1: no compiled engine to compare")


def engine_class(pair):
    module, _, name = PAIRS[pair]
    return getattr(importlib.import_module(module), name)


def twin_class(pair):
    _, module, name = PAIRS[pair]
    return getattr(importlib.import_module(module), name)


def cython_pickling(cls):
    """The names Cython itself gave ``cls`` for its default pickling (or its refusal
    to pickle): ``__reduce__`` and ``__setstate__`` bound to ``__reduce_cython__``
    and ``__setstate_cython__``. Not API text; "copy and pickle" below compares
    what they do."""
    return {
        name for name in ("__reduce__", "__setstate__")
        if getattr(inspect.getattr_static(cls, name), "__name__", "") == name[:-2] + "_cython__"
    }


def defines(cls, name):
    return any(name in vars(klass) for klass in cls.__mro__ if klass is not object)


def api_names(cls):
    public = {name for name in dir(cls) if not name.startswith("_")}
    return public | {name for name in PROTOCOL if defines(cls, name)}


def compared_names(pair):
    """The API names of both classes, less those the engine's pickling got from Cython."""
    skip = set() if PURE_ONLY else cython_pickling(engine_class(pair))
    twin = api_names(twin_class(pair)) - skip
    engine = set() if PURE_ONLY else api_names(engine_class(pair)) - skip
    return engine, twin


def members(pair):
    """The names compared for a pair, taken from the twin (the name test holds the engine to them)."""
    return sorted(compared_names(pair)[1])


def pending(table, key, what="engine change pending"):
    reason = table.get(key)
    return [pytest.mark.xfail(strict=True, reason=f"{what}: {reason}")] if reason else []


def member_params(table=None):
    return [
        pytest.param(pair, name, id=f"{pair}-{name}", marks=pending(table or {}, (pair, name)))
        for pair in PAIRS
        for name in members(pair)
    ]


def docstring(member):
    """A member's docstring, cleaned; '' when it has none of its own."""
    if isinstance(member, types.WrapperDescriptorType) and member.__text_signature__ is not None:
        return ""  # CPython's generic text for the slot ("Return repr(self).")
    return inspect.cleandoc(member.__doc__ or "")


def is_data(member):
    return isinstance(member, (property, types.GetSetDescriptorType, types.MemberDescriptorType))


def signature(member):
    try:
        sig = inspect.signature(member)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if params and params[0].name == "self" and params[0].kind is inspect.Parameter.POSITIONAL_ONLY:
        params[0] = params[0].replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)  # "(self, /)"
    return sig.replace(parameters=params)


def why_no_signature(member):
    if isinstance(member, types.MethodDescriptorType):
        return BINDING_FALSE
    if isinstance(member, types.WrapperDescriptorType):
        return SLOT_WITH_DOC
    return None


# -- names -------------------------------------------------------------------


@needs_engine
@pytest.mark.parametrize("pair", PAIRS)
def test_engine_and_twin_have_the_same_public_names(pair):
    engine, twin = compared_names(pair)
    assert (sorted(engine - twin), sorted(twin - engine)) == ([], [])


# -- docstrings --------------------------------------------------------------


@needs_engine
@pytest.mark.parametrize("pair", PAIRS)
def test_class_docstrings_are_identical(pair):
    assert docstring(engine_class(pair)) == docstring(twin_class(pair))
    assert docstring(twin_class(pair))


@needs_engine
@pytest.mark.parametrize(("pair", "name"), member_params(ENGINE_DOCS_PENDING))
def test_member_docstrings_are_identical(pair, name):
    engine = inspect.getattr_static(engine_class(pair), name)
    twin = inspect.getattr_static(twin_class(pair), name)
    assert docstring(engine) == docstring(twin)


@needs_engine
@pytest.mark.parametrize("pair", PAIRS)
def test_every_public_method_and_property_has_a_docstring(pair):
    cls = twin_class(pair)
    public = [(name, inspect.getattr_static(cls, name)) for name in api_names(cls) if not name.startswith("_")]
    undocumented = [
        name for name, member in public
        if (isinstance(member, property) or not is_data(member)) and not docstring(member)
    ]
    assert undocumented == []


def dotted_references(text):
    return set(re.findall(r"``(mooncake(?:\.\w+)+)``", text))


def resolves(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            if not hasattr(target, part):
                return False
            target = getattr(target, part)
        return True
    return False


@pytest.mark.parametrize("pair", PAIRS)
def test_names_the_twin_docstrings_point_to_exist(pair):
    # Checked on the twin: the tests above hold the engine's text to it.
    module, cls = importlib.import_module(PAIRS[pair][1]), twin_class(pair)
    texts = [module.__doc__ or "", cls.__doc__ or ""]
    texts += [inspect.getattr_static(cls, name).__doc__ or "" for name in api_names(cls)]
    broken = sorted({ref for text in texts for ref in dotted_references(text) if not resolves(ref)})
    assert broken == []


# -- signatures --------------------------------------------------------------


@needs_engine
@pytest.mark.parametrize(("pair", "name"), member_params())
def test_member_signatures_match(pair, name):
    engine = inspect.getattr_static(engine_class(pair), name)
    twin = inspect.getattr_static(twin_class(pair), name)
    assert is_data(engine) == is_data(twin)
    if is_data(twin):
        return  # an attribute: no call to compare
    expected = signature(twin)
    assert expected is not None
    found = signature(engine)
    if found is None:
        reason = why_no_signature(engine)
        assert reason is not None, f"the engine's {name} has no signature, for no known reason"
        pytest.skip(f"engine signature unavailable: {reason}")
    assert str(found) == str(expected)


def documented_call(cls):
    """The ``Name(...)`` line of a class docstring, whitespace folded; None without one."""
    match = re.search(r"``%s(\(.*?\))``" % cls.__name__, cls.__doc__ or "", re.S)
    return None if match is None else " ".join(match.group(1).split())


@pytest.mark.parametrize("pair", PAIRS)
def test_documented_constructor_is_the_twins_signature(pair):
    cls = twin_class(pair)
    documented = documented_call(cls)
    if documented is None:
        pytest.skip(f"the docstring of {cls.__name__} shows no constructor call")
    assert documented == str(inspect.signature(cls))


# The engines' __init__ (a tp_init slot) and their binding(False) methods have
# no signature to read, so a probe calls them with the twin's parameters by
# name: the engine must take every name the twin takes, refuse a keyword-only
# one passed by position, and refuse a name the twin does not know.

def _no_value(key, default):
    return default


def _nothing():
    return None


#: Values for parameters without a default (module-level functions, so a front pickles).
SAMPLES = {
    "key": "k", "value": "v",
    "engine_get": _no_value, "drain": _nothing, "slow_get": _no_value, "missing": None,
    "memo_key_type": tuple, "strict": False,
}


def sample(param):
    """``(value,)`` to pass for ``param``, or None to leave it out (``*args``, ``**kwargs``,
    a private sentinel default)."""
    if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
        return None
    if param.default is param.empty:
        return (SAMPLES[param.name],)
    if type(param.default) is object:
        return None
    return (param.default,)


def make(cls):
    """An instance built with the twin's required parameters."""
    params = inspect.signature(twin_class_of(cls)).parameters.values()
    return cls(*(sample(p)[0] for p in params if p.default is p.empty))


def twin_class_of(cls):
    return next(twin_class(pair) for pair in PAIRS if cls.__name__ == PAIRS[pair][2])


def outcome(call):
    """What a call did: the plain value it returned, the type name of another, or the exception type."""
    try:
        result = call()
    except Exception as exc:  # the probe compares what happened, whatever it was
        return ("raised", type(exc))
    if result is None or type(result) in (bool, int, float, str):
        return ("returned", result)
    return ("returned a", type(result).__name__)


def probe(engine_call, twin_call, twin_sig):
    params = [p for p in twin_sig.parameters.values() if p.name != "self"]
    by_name = {p.name: sample(p)[0] for p in params if sample(p)}
    positional = [sample(p)[0] for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and sample(p)]

    def both(*args, **kwargs):
        return outcome(lambda: engine_call(*args, **kwargs)), outcome(lambda: twin_call(*args, **kwargs))

    engine, twin = both(**by_name)
    assert engine == twin and engine != ("raised", TypeError), ("by keyword", engine, twin)
    for param in params:
        if param.kind is param.KEYWORD_ONLY and sample(param):
            engine, twin = both(*positional, sample(param)[0])
            assert engine == twin == ("raised", TypeError), (param.name, "by position", engine, twin)
    engine, twin = both(**by_name, no_such_parameter=1)
    assert engine == twin == ("raised", TypeError), ("unknown keyword", engine, twin)


@needs_engine
@pytest.mark.parametrize(
    "pair", [pytest.param(pair, marks=pending(CONSTRUCTOR_PENDING, pair)) for pair in PAIRS]
)
def test_engine_constructor_takes_the_twins_parameters(pair):
    engine_cls, twin_cls = engine_class(pair), twin_class(pair)
    assert signature(engine_cls) is None or str(signature(engine_cls)) == str(signature(twin_cls))
    probe(engine_cls, twin_cls, inspect.signature(twin_cls))


@needs_engine
@pytest.mark.parametrize("pair", PAIRS)
def test_engine_methods_without_signature_take_the_twins_parameters(pair):
    engine_cls, twin_cls = engine_class(pair), twin_class(pair)
    probed = []
    for name in members(pair):
        if isinstance(inspect.getattr_static(engine_cls, name), types.MethodDescriptorType):
            twin_sig = signature(inspect.getattr_static(twin_cls, name))
            probe(lambda *a, **k: getattr(make(engine_cls), name)(*a, **k),
                  lambda *a, **k: getattr(make(twin_cls), name)(*a, **k), twin_sig)
            probed.append(name)
    if not probed:
        pytest.skip("every method of the engine has a signature")


# -- object shape ------------------------------------------------------------


def can_subclass(cls):
    try:
        type("Sub", (cls,), {})
    except TypeError:
        return False
    return True


def can_weakref(obj):
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def can_set_attribute(obj):
    try:
        obj.no_such_attribute = 1
    except AttributeError:
        return False
    return True


def can_copy(obj):
    try:
        copy.copy(obj)
        pickle.dumps(obj)
    except TypeError:
        return False
    return True


SHAPES = {
    "subclassing": lambda cls: can_subclass(cls),
    "weak references": lambda cls: can_weakref(make(cls)),
    "new attributes": lambda cls: can_set_attribute(make(cls)),
    "copy and pickle": lambda cls: can_copy(make(cls)),
}


@needs_engine
@pytest.mark.parametrize(
    ("pair", "shape"),
    [pytest.param(pair, shape, id=f"{pair}-{shape}", marks=pending(SHAPE_PENDING, (pair, shape), "known difference"))
     for pair in PAIRS for shape in SHAPES],
)
def test_engine_and_twin_allow_the_same(pair, shape):
    assert SHAPES[shape](engine_class(pair)) == SHAPES[shape](twin_class(pair))
