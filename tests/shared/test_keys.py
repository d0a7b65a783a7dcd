"""Key encoding: distinct types stay distinct, equal keys meet, bad keys and
namespaces are refused before anything is sent, slots and scans stay honest."""

import enum
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mooncake.shared import SharedMooncake
from mooncake.shared.keys import Namespace, encode_key

atoms = st.one_of(st.text(max_size=8), st.binary(max_size=8), st.integers(), st.booleans())
keys = st.recursive(atoms, lambda inner: st.tuples(inner, inner) | st.tuples(inner), max_leaves=6)

SHELLS = ("sync", "async")  # every test runs through both shells (see conftest)


@given(keys, keys)
def test_keys_share_an_encoding_exactly_when_python_finds_them_equal(a, b):
    assert (encode_key(a) == encode_key(b)) == (a == b)


@given(keys)
def test_no_encoded_key_holds_a_hash_tag_brace(key):
    encoded = encode_key(key)
    assert b"{" not in encoded and b"}" not in encoded


def test_one_string_int_bytes_and_tuple_are_four_keys(shared):
    for key, value in (("1", "str"), (1, "int"), (b"1", "bytes"), (("1", 1), "tuple")):
        shared.put(key, value)
    assert [shared.get(k) for k in ("1", 1, b"1", ("1", 1))] == ["str", "int", "bytes", "tuple"]
    assert len(shared) == 4


def test_true_is_one_and_subclasses_are_their_plain_values(shared):
    class Color(enum.IntEnum):
        RED = 1

    class Name(str):
        def encode(self, *args):  # never consulted: the plain value is the key
            return b"other"

    shared.put(1, "one")
    assert shared.get(True) == "one" and shared.get(Color.RED) == "one"
    shared.put("x", "ex")
    assert shared.get(Name("x")) == "ex"


def test_a_lone_surrogate_is_a_key_of_its_own(shared):
    shared.put("\ud800", "surrogate")
    shared.put("\ufffd", "replacement")
    assert shared.get("\ud800") == "surrogate"


@pytest.mark.parametrize("key", [1.0, None, [1], {"a": 1}, object(), ("ok", 1.5), frozenset()])
def test_a_key_of_the_wrong_type_raises_before_anything_is_sent(shared, commands_sent, key):
    for call in (lambda: shared.put(key, 1), lambda: shared.get(key), lambda: shared.delete(key),
                 lambda: shared.pop(key, None), lambda: key in shared, lambda: shared.ttl(key),
                 lambda: shared.touch(key, 1), lambda: shared.get_many(["ok", key]),
                 lambda: shared.put_many([("ok", 1), (key, 2)])):
        with pytest.raises(TypeError):
            call()
    assert commands_sent() == 0


@pytest.mark.parametrize("ttl, error", [("10", TypeError), (None, TypeError), (1j, TypeError),
                                        (math.nan, ValueError)])
def test_a_bad_ttl_raises_and_changes_nothing(shared, commands_sent, ttl, error):
    shared.put("k", "old")
    shared.put_many({"a": 1})
    before = commands_sent()
    with pytest.raises(error):
        shared.put("k", "new", ttl=ttl)
    with pytest.raises(error):
        shared.put_many({"k": "new", "b": 2}, ttl=ttl)
    with pytest.raises(error):
        shared.touch("k", ttl)
    assert commands_sent() == before
    assert shared.get("k") == "old" and "b" not in shared


def test_an_unencodable_value_in_a_batch_stores_nothing(shared, commands_sent):
    with pytest.raises(TypeError):
        shared.put_many([("a", 1), ("b", lambda: None)])
    with pytest.raises(TypeError):
        shared.put("c", lambda: None)
    assert commands_sent() == 0
    assert shared.get_many(["a", "b", "c"]) == {}


@pytest.mark.parametrize("namespace, error", [("", ValueError), ("app{x}:", ValueError),
                                              ("a}", ValueError), (b"app:", TypeError),
                                              (None, TypeError)])
def test_a_bad_namespace_is_refused(standalone, namespace, error):
    with pytest.raises(error):
        SharedMooncake(standalone.url, namespace=namespace)


@pytest.mark.parametrize("glob", ["a*:", "a?:", "[ab]:", "a\\:"])
def test_a_namespace_with_glob_characters_scans_only_itself(make_shared, namespace, glob):
    mine = make_shared(namespace=namespace + glob)
    # Namespaces the unescaped pattern would have matched.
    neighbours = [make_shared(namespace=namespace + other) for other in ("ab:", "a:", "b:", "ax:")]
    mine.put_many({1: 1, 2: 2})
    for i, cache in enumerate(neighbours):
        cache.put("n", i)
    assert len(mine) == 2
    mine.clear()
    assert len(mine) == 0
    assert [cache.get("n") for cache in neighbours] == list(range(len(neighbours)))


def test_keys_with_braces_spread_over_cluster_slots(cluster, namespace):
    client = cluster.client()
    try:
        space = Namespace(namespace)
        slots = {client.keyslot(space.key(f"{{user}}{i}")) for i in range(20)}
        assert len(slots) > 1  # a hash tag would have put all twenty on one slot
    finally:
        client.close()


def test_helper_keys_are_cleared_but_not_counted(shared, raw, namespace):
    shared.put("k", 1)
    helper = Namespace(namespace).helper_key(b"lock", "k")
    raw.set(helper, b"1")
    assert len(shared) == 1 and shared.get_stats()["total_objects"] == 1
    shared.clear()
    assert raw.exists(helper) == 0


@given(st.lists(keys, max_size=8))
def test_the_batch_and_fast_paths_encode_as_the_rules_say(batch):
    space = Namespace("ns:")
    expected = [b"ns:" + encode_key(k) for k in batch]
    assert [space.key(k) for k in batch] == expected
    assert space.names(batch) == expected


_KEY = st.recursive(st.one_of(st.text(), st.integers(), st.booleans(), st.binary()),
                    lambda items: st.tuples(items) | st.lists(items, max_size=3).map(tuple),
                    max_leaves=8)


@given(_KEY)
def test_a_server_key_decodes_to_the_plain_key(key):
    from mooncake.shared.keys import Namespace, decode_name, plain_key

    namespace = Namespace("app:(x),%:")
    decoded = decode_name(namespace.prefix, namespace.key(key))
    assert decoded == key and decoded == plain_key(key)
    assert namespace.key(decoded) == namespace.key(key)


@pytest.mark.sync_only
@pytest.mark.parametrize("continuation", ["t:", "s(", "m(", "i(", "b(", "~(", "t:s:", "mx:"])
def test_a_namespace_continuing_another_without_a_type_tag_is_not_inside_it(
        make_shared, namespace, continuation):
    mine = make_shared(namespace=namespace)
    # Its keys start with namespace + one of [sibmt~] + one of [:(], but none is a real tag.
    neighbour = make_shared(namespace=namespace + continuation)
    mine.put_many({"a": 1, 2: 2})
    neighbour.put_many({"n": "theirs", 7: "theirs"})

    @neighbour.memoize(ttl=60)
    def theirs(x):
        return x

    theirs(1)
    assert len(mine) == 2 and mine.get_stats()["total_objects"] == 2
    mine.clear()
    assert len(mine) == 0
    assert neighbour.get_many(["n", 7]) == {"n": "theirs", 7: "theirs"}
    assert len(neighbour) == 3


def test_ordinary_ints_keep_their_decimal_encoding():
    assert encode_key(12345) == b"i:12345" and encode_key(-7) == b"i:-7"
    assert Namespace("ns:").key(10**20) == b"ns:i:100000000000000000000"
    assert encode_key((1, True)) == b"t(i:1,i:1)"


@pytest.mark.parametrize("key", [10**5000, -(10**5000) - 3, (10**4301 + 17, "x")],
                         ids=["huge", "huge-negative", "in-a-tuple"])
def test_an_int_key_past_pythons_digit_limit_is_a_key(make_shared, key):
    import sys

    from mooncake.shared.keys import decode_name

    from .near_procs import read_until_near_hit, wait_trusted

    space = Namespace("ns:")
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)  # only to compute what the encoding must be
    try:
        digits = str(key if type(key) is int else key[0]).encode()
    finally:
        sys.set_int_max_str_digits(limit)
    name = space.key(key)
    assert (b"i:" + digits) in name
    decoded_back = decode_name(space.prefix, name) == key  # a bool: a huge int has no repr
    assert decoded_back
    cache = make_shared()
    near = make_shared(near=10)
    cache.put(key, "big")
    wait_trusted(near)
    assert cache.get(key) == "big" and (key in cache) is True
    assert list(cache.get_many([key]).values()) == ["big"]
    read_until_near_hit(near, key, "big")
    assert cache.pop(key) == "big" and len(cache) == 0


@pytest.mark.sync_only
def test_an_int_memoize_argument_past_pythons_digit_limit_is_named(shared):
    calls = []

    @shared.memoize(ttl=60)
    def parity(n):
        calls.append(n)
        return n % 2

    big = 3 ** 20000  # about 9,500 digits
    assert parity(big) == 1 and parity(big) == 1 and parity(big + 1) == 0
    assert len(calls) == 2
