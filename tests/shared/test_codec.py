"""Values: serializers, the format header, and signing that never unpickles a forgery."""

import hmac
import json
import pickle

import pytest

from mooncake.shared import SharedMooncake

KEY = b"0123456789abcdef0123456789abcdef"
LOADED = []

SHELLS = ("sync", "async")  # every test runs through both shells (see conftest)


def _mark_loaded():
    LOADED.append(True)
    return "pwned"


class Trap:
    """Unpickling this calls _mark_loaded: proof that loads ran."""

    def __reduce__(self):
        return (_mark_loaded, ())


@pytest.fixture(autouse=True)
def _no_trap_sprung():
    LOADED.clear()
    yield
    LOADED.clear()


@pytest.mark.parametrize("serializer, value", [
    ("pickle", {"a": (1, 2.5, None)}), ("json", {"a": [1, 2.5, None]}), ("bytes", b"\x00raw"),
])
def test_each_serializer_round_trips(make_shared, serializer, value):
    cache = make_shared(serializer=serializer)
    cache.put("k", value)
    assert cache.get("k") == value


def test_a_custom_serializer_is_used(make_shared, raw, namespace):
    class Upper:
        @staticmethod
        def dumps(value):
            return value.upper().encode()

        @staticmethod
        def loads(data):
            return data.decode()

    cache = make_shared(serializer=Upper())
    cache.put("k", "abc")
    assert cache.get("k") == "ABC"
    # No name given: the class's module and qualified name identify it.
    identity = f"{__name__}.test_a_custom_serializer_is_used.<locals>.Upper".encode()
    assert raw.get(f"{namespace}s:k".encode()) == b"N" + identity + b"\x00ABC"


@pytest.mark.parametrize("serializer, value", [("json", {1, 2}), ("json", float("nan")),
                                               ("bytes", "text"), ("pickle", lambda: 1)])
def test_a_value_the_serializer_cannot_encode_raises_type_error(make_shared, serializer, value):
    cache = make_shared(serializer=serializer)
    with pytest.raises(TypeError):
        cache.put("k", value)
    assert "k" not in cache


@pytest.mark.parametrize("serializer", ["yaml", 3, object()])
def test_an_unknown_serializer_is_refused(standalone, serializer):
    with pytest.raises((TypeError, ValueError)):
        SharedMooncake(standalone.url, serializer=serializer)


def test_a_value_written_by_another_serializer_is_refused_not_misread(make_shared):
    as_json = make_shared(serializer="json")
    as_bytes = make_shared(serializer="bytes")
    as_json.put("k", [1])
    assert as_bytes.get("k") is None
    assert as_bytes.get_stats()["rejected"] == 1 and as_bytes.get_stats()["misses"] == 1


def test_a_foreign_value_at_a_key_reads_as_a_miss(shared, raw, namespace):
    raw.set(f"{namespace}s:k".encode(), b"not ours")
    assert shared.get("k", "d") == "d"
    assert shared.get_stats()["rejected"] == 1


@pytest.mark.parametrize("signing_key, error", [(b"short", ValueError), ("0" * 32, TypeError)])
def test_a_weak_or_textual_signing_key_is_refused(standalone, signing_key, error):
    with pytest.raises(error):
        SharedMooncake(standalone.url, signing_key=signing_key)


def test_signed_values_round_trip(make_shared):
    cache = make_shared(signing_key=KEY)
    cache.put_many({"a": Trap.__name__, "b": [1, 2]})
    assert cache.get_many(["a", "b"]) == {"a": "Trap", "b": [1, 2]}


def test_a_tampered_signed_value_is_never_unpickled(make_shared, raw, namespace):
    cache = make_shared(signing_key=KEY)
    cache.put("k", "honest")
    name = f"{namespace}s:k".encode()
    stored = raw.get(name)
    header, tag = stored[:1], stored[1:33]
    raw.set(name, header + tag + pickle.dumps(Trap()))  # same header and tag, new payload
    assert cache.get("k", "miss") == "miss"
    assert cache.get_many(["k"]) == {}
    assert cache.pop("k", "miss") == "miss"
    assert LOADED == []
    assert cache.get_stats()["rejected"] == 3


def test_an_unsigned_value_is_never_unpickled_by_a_signing_reader(make_shared):
    writer = make_shared()
    reader = make_shared(signing_key=KEY)
    writer.put("k", Trap())
    LOADED.clear()  # pickling a Trap runs nothing; loading it here would
    assert reader.get("k") is None
    assert LOADED == [] and reader.get_stats()["rejected"] == 1


def test_a_signed_value_copied_to_another_key_does_not_verify(make_shared, raw, namespace):
    cache = make_shared(signing_key=KEY)
    cache.put("a", "for a")
    raw.set(f"{namespace}s:b".encode(), raw.get(f"{namespace}s:a".encode()))
    assert cache.get("b") is None and cache.get("a") == "for a"
    assert cache.get_stats()["rejected"] == 1


def test_another_signing_key_does_not_verify(make_shared):
    make_shared(signing_key=KEY).put("k", 1)
    other = make_shared(signing_key=b"another key of sixteen bytes+")
    assert other.get("k") is None and other.get_stats()["rejected"] == 1


class AsJson:
    @staticmethod
    def dumps(value):
        return json.dumps(value).encode()

    @staticmethod
    def loads(data):
        return json.loads(data)


class AsText:
    @staticmethod
    def dumps(value):
        return str(value).encode()

    @staticmethod
    def loads(data):
        return data.decode()


class Named(AsText):
    def __init__(self, name):
        self.name = name


def test_a_custom_serializer_refuses_another_custom_serializers_value(make_shared):
    as_json = make_shared(serializer=AsJson())
    as_text = make_shared(serializer=AsText())
    as_json.put("j", {"x": 1})
    as_text.put("t", "plain")
    assert as_text.get("j") is None and as_json.get("t") is None
    assert as_text.get_many(["j"]) == {} and as_json.get_many(["t"]) == {}
    assert as_text.get_stats()["rejected"] == 2 and as_json.get_stats()["rejected"] == 2
    assert as_json.get("j") == {"x": 1} and as_text.get("t") == "plain"


def test_a_custom_serializers_name_is_its_identity(make_shared):
    v1, v2 = make_shared(serializer=Named("text-v1")), make_shared(serializer=Named("text-v2"))
    also_v1 = make_shared(serializer=Named("text-v1"), signing_key=KEY)
    v1.put("k", "one")
    assert v2.get("k") is None and v2.get_stats()["rejected"] == 1
    assert also_v1.get("k") is None  # signed and unsigned still refuse each other
    assert make_shared(serializer=Named("text-v1")).get("k") == "one"
    also_v1.put("s", "signed")
    assert make_shared(serializer=Named("text-v1"), signing_key=KEY).get("s") == "signed"


@pytest.mark.parametrize("name, error", [("", ValueError), ("a\x00b", ValueError),
                                         ("x" * 256, ValueError), (b"bytes", TypeError)])
def test_a_bad_serializer_name_is_refused(standalone, name, error):
    serializer = Named(name) if isinstance(name, str) else Named("ok")
    if not isinstance(name, str):
        serializer.name = name
    with pytest.raises(error):
        SharedMooncake(standalone.url, serializer=serializer)


@pytest.mark.parametrize("serializer, value, payload", [
    ("pickle", {"a": (1, None)}, pickle.dumps({"a": (1, None)}, protocol=pickle.HIGHEST_PROTOCOL)),
    ("json", {"a": [1, 2.5, None]}, b'{"a":[1,2.5,null]}'),
    ("bytes", b"\x00raw", b"\x00raw"),
])
def test_built_in_values_keep_their_stored_layout(make_shared, raw, namespace, serializer, value,
                                                  payload):
    # Written by raw bytes in the layout of earlier releases: still read, and written alike.
    header = {"pickle": b"P", "json": b"J", "bytes": b"B"}[serializer]
    name = f"{namespace}s:old".encode()
    raw.set(name, header + payload)
    cache = make_shared(serializer=serializer)
    assert cache.get("old") == value
    cache.put("new", value)
    assert raw.get(f"{namespace}s:new".encode()) == header + payload
    signer = make_shared(serializer=serializer, signing_key=KEY)
    tag = hmac.digest(KEY, len(name).to_bytes(4, "big") + name + header.lower() + payload, "sha256")
    raw.set(name, header.lower() + tag + payload)
    assert signer.get("old") == value
