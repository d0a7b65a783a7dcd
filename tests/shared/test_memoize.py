"""memoize on a SharedMooncake: results shared across processes, kept in the namespace."""

import os
import pathlib
import subprocess
import sys

import pytest

from . import memo_target
from mooncake.shared.memo_keys import canonical

HERE = pathlib.Path(__file__).parent


def test_a_result_computed_in_another_process_is_a_hit_here(server, namespace):
    # The child hashes str differently (another PYTHONHASHSEED): keys must not depend on it.
    # The child imports the module under the name it has here (shared.memo_target):
    # the module is part of the function's name, hence of its keys.
    env = dict(os.environ, PYTHONHASHSEED="12345",
               PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
    code = f"from shared import memo_target; memo_target.child({server.url!r}, {namespace!r})"
    child = subprocess.run([sys.executable, "-c", code],
                           env=env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["1", "12345"]
    memo_target.CALLS.clear()
    cache, shape = memo_target.build(server.url, namespace)
    try:
        result = shape("box", frozenset({"tall", "big", "red"}), options={"a": [1, None], "b": 2})
        assert result == "box:['big', 'red', 'tall']:{'b': 2, 'a': [1, None]}"
        assert memo_target.CALLS == []  # computed by the child, read here
        assert shape.cache_info().hits == 1
    finally:
        cache.clear()
        cache.close()


def test_memoized_results_are_entries_of_the_namespace(shared):
    calls = []

    @shared.memoize(ttl=60)
    def double(x):
        calls.append(x)
        return 2 * x

    @shared.memoize(ttl=60)
    def triple(x):
        return 3 * x

    assert [double(2), double(2), double(True), double(1.0), triple(2)] == [4, 4, 2, 2, 6]
    assert calls == [2, True]  # True and 1.0 are 1: one result
    assert double.cache_info() == (2, 2, 2)
    assert len(shared) == 3
    assert 59 < max(shared.client.ttl(k) for k in shared.client.scan_iter(match=b"*m:*"
                                                                         )) <= 60
    double.cache_clear()
    assert len(shared) == 1 and triple.cache_info().size == 1
    shared.clear()
    assert triple.cache_info().size == 0


def test_a_key_function_names_the_result(shared):
    @shared.memoize(key=lambda user, session: user)
    def profile(user, session):
        return f"{user} via {session}"

    assert profile("ann", object()) == profile("ann", object())


def test_arguments_that_cannot_be_named_alike_everywhere_raise(shared):
    @shared.memoize()
    def f(x):
        return x

    with pytest.raises(TypeError, match="key="):
        f(object())


def test_memoize_method_is_refused(shared):
    with pytest.raises(AttributeError):
        shared.memoize_method


def test_canonical_encoding_is_order_free_and_equality_true():
    assert canonical({"b": 1, "a": 2}) == canonical({"a": 2, "b": 1})
    assert canonical({1, 2, 3}) == canonical(frozenset({3, 2, 1}))
    assert canonical((1, 1.0, True)) == canonical((1, 1, 1))
    assert len({canonical(v) for v in ("1", 1, b"1", [1], (1,), None, 1.5)}) == 7
