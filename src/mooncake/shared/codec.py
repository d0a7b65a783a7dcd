"""How a value becomes the bytes stored on the server, and back.

Stored layout: a header naming the serializer, then, when the cache has a
``signing_key``, a 32-byte HMAC-SHA256 tag, then the serialized value. The
header starts with an ASCII letter so a value reads sensibly in
``valkey-cli``: ``P`` pickle, ``J`` json, ``B`` bytes (one byte each), ``N``
followed by a custom serializer's name and a NUL byte (``Nmyapp.Msgpack\0``);
lower case when signed. A reader refuses a value whose header is not its own,
so a value written by another serializer (or unsigned, or signed) is never
mis-decoded. A custom serializer's name is its ``name`` attribute if it has
one, else its class's module and qualified name (a module's own name): a name
never holds NUL, so no header is the beginning of another. Values written with
the header ``C`` (custom serializers of earlier releases, whose header did not
say which) are refused.

The tag covers the server key as well as header and payload: a signed value
copied onto another key does not verify there. Without a signing key anyone
who can write to the server can make ``pickle.loads`` run code in every
reader; a value whose tag does not verify is never passed to ``loads``.
"""

import functools
import hashlib
import hmac
import json
import pickle
import types

#: Valkey's largest string (proto-max-bulk-len): refuse bigger values up front.
MAX_VALUE_BYTES = 512 * 1024 * 1024
_TAG_BYTES = hashlib.sha256().digest_size
_MIN_SIGNING_KEY_BYTES = 16
#: The longest custom serializer name (UTF-8 bytes): every value carries it.
MAX_NAME_BYTES = 255


class Rejected(Exception):
    """A stored value that this cache will not decode (wrong header, bad tag, undecodable)."""


#: What decode_many puts in place of a value that is absent, or rejected.
ABSENT = object()
REJECTED = object()


class _Pickle:
    name = "pickle"
    dumps = staticmethod(functools.partial(pickle.dumps, protocol=pickle.HIGHEST_PROTOCOL))
    loads = staticmethod(pickle.loads)


class _Json:
    name = "json"

    @staticmethod
    def dumps(value):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode("utf-8")

    @staticmethod
    def loads(data):
        return json.loads(data.decode("utf-8"))


class _Bytes:
    name = "bytes"

    @staticmethod
    def dumps(value):
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f'serializer="bytes" stores bytes, not {type(value).__name__}')
        return bytes(value)

    @staticmethod
    def loads(data):
        return data


_BUILT_IN = {"pickle": (_Pickle, b"P"), "json": (_Json, b"J"), "bytes": (_Bytes, b"B")}


def serializer_name(serializer):
    """The name identifying a custom serializer in its values' header, as bytes:
    its ``name`` attribute (a str) if it has one, else its class's (or the
    module's) qualified name. TypeError / ValueError for an unusable name."""
    name = getattr(serializer, "name", None)
    if name is None:
        if isinstance(serializer, types.ModuleType):
            name = serializer.__name__
        else:
            kind = serializer if isinstance(serializer, type) else type(serializer)
            name = f"{kind.__module__}.{kind.__qualname__}"
    if not isinstance(name, str):
        raise TypeError(f"a serializer's name must be a str, not {type(name).__name__}")
    try:
        raw = name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"a serializer's name must be valid Unicode, not {name!r}") from None
    if not raw or b"\x00" in raw or len(raw) > MAX_NAME_BYTES:
        raise ValueError(f"a serializer's name must be 1 to {MAX_NAME_BYTES} bytes of UTF-8 "
                         f"without NUL, not {name!r}")
    return raw


def check_signing_key(signing_key):
    """None, or bytes of at least 16 bytes (32 random bytes recommended)."""
    if signing_key is None:
        return None
    if not isinstance(signing_key, (bytes, bytearray)):
        raise TypeError(f"signing_key must be bytes, not {type(signing_key).__name__}")
    if len(signing_key) < _MIN_SIGNING_KEY_BYTES:
        raise ValueError(f"signing_key must be at least {_MIN_SIGNING_KEY_BYTES} bytes")
    return bytes(signing_key)


class ValueCodec:
    """Encodes values for one cache: its serializer, its header, its signing key."""

    __slots__ = ("serializer", "header", "signing_key", "_dumps", "_loads", "_skip")

    def __init__(self, serializer="pickle", signing_key=None):
        if isinstance(serializer, str):
            if serializer not in _BUILT_IN:
                raise ValueError(
                    f"serializer must be 'pickle', 'json', 'bytes' or an object with dumps/loads, "
                    f"not {serializer!r}")
            serializer, header = _BUILT_IN[serializer]
        elif callable(getattr(serializer, "dumps", None)) and callable(getattr(serializer, "loads", None)):
            header = b"N" + serializer_name(serializer) + b"\x00"
        else:
            raise TypeError("serializer must be 'pickle', 'json', 'bytes' or an object with dumps/loads")
        self.signing_key = check_signing_key(signing_key)
        self.serializer = serializer
        if self.signing_key is not None:
            header = header[:1].lower() + header[1:]
        self.header = header
        self._skip = len(header)  # where the tag, or the payload, starts
        self._dumps = serializer.dumps
        self._loads = serializer.loads

    def _tag(self, name, header_and_payload):
        message = len(name).to_bytes(4, "big") + name + header_and_payload
        return hmac.digest(self.signing_key, message, "sha256")

    def encode(self, name, value):
        """The bytes to store under server key ``name``. A value the serializer
        cannot encode raises TypeError; one larger than the server accepts, ValueError."""
        try:
            payload = self._dumps(value)
        except Exception as exc:
            raise TypeError(f"cannot serialize {type(value).__name__} value: {exc}") from exc
        if type(payload) is not bytes and not isinstance(payload, (bytes, bytearray)):
            raise TypeError(f"the serializer's dumps returned {type(payload).__name__}, not bytes")
        if len(payload) + self._skip + _TAG_BYTES > MAX_VALUE_BYTES:
            raise ValueError(f"the serialized value is {len(payload)} bytes: over the server's 512 MiB")
        if self.signing_key is None:
            return self.header + payload
        return self.header + self._tag(name, self.header + payload) + payload

    def decode_many(self, keys, names, datas):
        """``decode`` over a batch: ``(found, hits, rejected, size)``, where
        ``found`` maps each key whose data decoded to its value, ``hits`` counts
        them (equal keys once each), ``rejected`` counts refused data and
        ``size`` the bytes decoded. The unsigned case runs in one tight loop."""
        found = {}
        hits = rejected = size = 0
        if self.signing_key is not None:
            for key, name, data in zip(keys, names, datas):
                value = self._decode_or_mark(name, data)
                if value is REJECTED:
                    rejected += 1
                elif value is not ABSENT:
                    found[key] = value
                    hits += 1
                    size += len(data)
            return found, hits, rejected, size
        header, loads, skip = self.header, self._loads, self._skip
        for key, data in zip(keys, datas):
            if data is None:
                continue
            if data[:skip] == header:
                try:
                    found[key] = loads(data[skip:])
                    hits += 1
                    size += len(data)
                    continue
                except Exception:
                    pass
            rejected += 1
        return found, hits, rejected, size

    def _decode_or_mark(self, name, data):
        if data is None:
            return ABSENT
        try:
            return self.decode(name, data)
        except Rejected:
            return REJECTED

    def decode(self, name, data):
        """The value stored as ``data`` under ``name``; Rejected if the header is
        not ours, the tag does not verify (then ``loads`` is never called) or
        ``loads`` fails."""
        skip = self._skip
        if data[:skip] != self.header:
            raise Rejected(f"header {data[:skip]!r}, expected {self.header!r}")
        if self.signing_key is None:
            try:
                return self._loads(data[skip:])
            except Exception as exc:
                raise Rejected(f"{exc!r}") from exc
        else:
            tag, payload = data[skip:skip + _TAG_BYTES], data[skip + _TAG_BYTES:]
            if not hmac.compare_digest(tag, self._tag(name, self.header + payload)):
                raise Rejected("the signature does not verify")
        try:
            return self._loads(payload)
        except Exception as exc:
            raise Rejected(f"{exc!r}") from exc
