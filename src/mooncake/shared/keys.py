"""How a cache key becomes a server key: deterministic, injective, slot-safe.

A key is ``namespace + encoding``, where the encoding names the type, so that
``"1"``, ``1``, ``b"1"`` and ``("1", 1)`` are four keys, while keys equal in
Python are one key (``True`` is ``1``):

    str     s:<utf-8>          int   i:<decimal>
    bytes   b:<bytes>          tuple t(<item>,<item>,...)
    memoize results            m:<module.qualname>:<digest>   (see memo_keys)
    helper keys (locks, ...)   ~:<kind>:...                   (never counted as entries)

clear() and len() see exactly the namespace followed by one of these six
tags, so a namespace that merely begins with another (``app:`` and
``app:users:``, ``app:t:``, ``app:s(``) is not touched by the other's clear().
SCAN's glob cannot say "one of these two-byte tags", so the scan pattern is a
little wider and ``Namespace.is_entry``/``is_own`` keep only the real tags.
Namespaces are plain prefixes, though: one that continues another with a real
tag (``app:`` and ``app:s:``) lies inside it (``app:s:``'s key ``"x"`` is
``app:``'s key ``"s:x"``). Refusing such namespaces at construction is not
possible (a cache does not know the other namespaces on the server), and
refusing every namespace holding a tag would refuse ``users:``.

Implementation note: inside str and bytes the characters ``% { } ( ) ,`` are
written ``%XX``. That keeps tuples parseable (so the encoding is injective),
and keeps ``{`` out of every encoded key, so a user key can never form a
Cluster hash tag that would pile keys onto one slot. The namespace may not
contain ``{`` or ``}`` for the same reason.
"""

import re

_ESCAPED = re.compile(rb"[%{}(),]")
_GLOB_SPECIAL = re.compile(rb"([*?\[\]\\])")

#: Helper keys (the near cache's locks, say) start with this after the namespace.
HELPER_MARK = b"~:"
#: Memoized results start with this after the namespace.
MEMO_MARK = b"m:"
#: What may follow the namespace in a cache entry's server key (see the table above).
ENTRY_TAGS = frozenset((b"s:", b"i:", b"b:", b"t(", MEMO_MARK))
#: ... and in any key of the namespace, helper keys included.
OWN_TAGS = ENTRY_TAGS | {HELPER_MARK}


def _escape_match(match):
    return b"%%%02X" % match.group()[0]


def escape(raw):
    """``raw`` bytes with ``% { } ( ) ,`` written as ``%XX``."""
    if _ESCAPED.search(raw) is None:
        return raw
    return _ESCAPED.sub(_escape_match, raw)


# Python refuses to convert an int of more than sys.get_int_max_str_digits()
# digits (4300 by default, never less than 640) to or from decimal. Such ints
# are valid keys, and every process must encode them alike whatever its limit,
# so past that limit the digits are made in pieces of at most _PIECE_DIGITS.
_PIECE_DIGITS = 600
_PIECE_BITS = 1990  # 2**1990 < 10**600: an int this small has at most 600 digits


def _padded_digits(n, width):
    """The decimal digits of ``n >= 0``, zero-padded to ``width``."""
    if n.bit_length() <= _PIECE_BITS:
        return b"%0*d" % (width, n)
    low_digits = int(n.bit_length() * 0.30102999566398) // 2  # half of n's digits, about
    high, low = divmod(n, 10 ** low_digits)
    return _padded_digits(high, max(width - low_digits, 0)) + _padded_digits(low, low_digits)


def int_digits(n):
    """``b"%d" % n`` (an int's decimal digits, as ``str(n)``), for ints of any size."""
    try:
        return b"%d" % n
    except ValueError:  # past the interpreter's int-to-str limit
        return b"-" + _padded_digits(-n, 0) if n < 0 else _padded_digits(n, 0)


def _parse_digits(digits):
    if len(digits) <= _PIECE_DIGITS:
        return int(digits)
    half = len(digits) // 2
    return _parse_digits(digits[:half]) * 10 ** (len(digits) - half) + _parse_digits(digits[half:])


def parse_int(body):
    """The int whose decimal digits ``int_digits`` made (any size); ValueError if it is not one."""
    try:
        return int(body)
    except ValueError:
        digits = body[1:] if body[:1] == b"-" else body
        if not digits.isdigit():  # ASCII digits only, no sign, space or "_" inside
            raise
    value = _parse_digits(digits)
    return -value if digits is not body else value


def glob_escape(raw):
    """``raw`` as a SCAN MATCH pattern that matches only itself."""
    return _GLOB_SPECIAL.sub(rb"\\\1", raw)


def encode_key(key):
    """The type-tagged encoding of ``key`` (without the namespace).

    str, bytes, int (bool is int) and tuples of these; anything else raises
    TypeError. A str that is not valid Unicode (a lone surrogate) is still a
    key: it is written with ``surrogatepass``.
    """
    kind = type(key)
    if kind is str:
        return b"s:" + escape(key.encode("utf-8", "surrogatepass"))
    if kind is int or kind is bool:
        return b"i:" + int_digits(int.__index__(key))
    if kind is bytes:
        return b"b:" + escape(key)
    if kind is tuple:
        return b"t(" + b",".join([encode_key(item) for item in key]) + b")"
    # Subclasses: by their plain value, never their overrides, as == sees them.
    if isinstance(key, str):
        return b"s:" + escape(str.encode(key, "utf-8", "surrogatepass"))
    if isinstance(key, int):
        return b"i:" + int_digits(int.__index__(key))
    if isinstance(key, bytes):
        return b"b:" + escape(bytes(memoryview(key)))
    if isinstance(key, tuple):
        return b"t(" + b",".join([encode_key(item) for item in tuple.__iter__(key)]) + b")"
    raise TypeError(
        f"a shared cache key must be str, bytes, int or a tuple of these, not {kind.__name__}")


def check_namespace(namespace):
    """The namespace as bytes: a non-empty str without ``{`` or ``}``."""
    if not isinstance(namespace, str):
        raise TypeError(f"namespace must be a str, not {type(namespace).__name__}")
    if not namespace:
        raise ValueError("namespace must not be empty: clear() would remove every key of the database")
    if "{" in namespace or "}" in namespace:
        raise ValueError(
            "namespace must not contain '{' or '}': a Cluster hash tag would put every key on one slot")
    return namespace.encode("utf-8")


class MemoKey:
    """A memoized result's server key, already complete: the cache uses it as is."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return type(other) is MemoKey and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return f"MemoKey({self.name!r})"


class Namespace:
    """Server keys and SCAN patterns of one namespace."""

    __slots__ = ("prefix", "everything", "entries", "helpers", "_str_prefix", "_int_prefix",
                 "_tag_start", "_tag_end")

    def __init__(self, namespace):
        self.prefix = check_namespace(namespace)
        self._str_prefix = self.prefix + b"s:"
        self._int_prefix = self.prefix + b"i:"
        self._tag_start = len(self.prefix)
        self._tag_end = self._tag_start + 2
        quoted = glob_escape(self.prefix)
        #: SCAN pattern of every key of the namespace (what clear() removes), and
        #: of a few that are not: keep only those ``is_own`` accepts
        self.everything = quoted + b"[sibmt~][:(]*"
        #: SCAN pattern of the cache entries (what len() counts): filter with ``is_entry``
        self.entries = quoted + b"[sibmt][:(]*"
        #: helper keys only
        self.helpers = quoted + HELPER_MARK + b"*"

    def is_own(self, name):
        """True if the server key ``name`` (matching ``everything``) is one of
        ours: the namespace followed by a real tag, not another namespace's key."""
        return name[self._tag_start:self._tag_end] in OWN_TAGS

    def is_entry(self, name):
        """True if the server key ``name`` (matching ``entries``) is an entry of ours."""
        return name[self._tag_start:self._tag_end] in ENTRY_TAGS

    def helper_key(self, kind, key):
        """A helper key (``kind``: bytes such as b"lock") for a cache key: inside
        the namespace, removed by clear(), never counted as an entry."""
        return self.prefix + HELPER_MARK + kind + b":" + encode_key(key)

    def key(self, key):
        """The server key of a cache key; TypeError for a key of the wrong type."""
        # Fast paths for the common keys (one concatenation); encode_key has the rules.
        kind = type(key)
        if kind is str:
            raw = key.encode("utf-8", "surrogatepass")
            if _ESCAPED.search(raw) is None:
                return self._str_prefix + raw
        elif kind is int:
            try:
                return self._int_prefix + b"%d" % key
            except ValueError:
                return self._int_prefix + int_digits(key)
        elif kind is MemoKey:
            return key.name
        return self.prefix + encode_key(key)

    def names(self, keys):
        """``[self.key(k) for k in keys]``, with the str fast path inlined: a
        batch of a hundred keys should cost little more than the MGET."""
        str_prefix, search, key_of = self._str_prefix, _ESCAPED.search, self.key
        if all(type(k) is str for k in keys):
            # One escape check for the whole batch; per key only if it finds something.
            raws = [k.encode("utf-8", "surrogatepass") for k in keys]
            if search(b"".join(raws)) is None:
                return [str_prefix + raw for raw in raws]
        return [str_prefix + raw
                if type(k) is str and search(raw := k.encode("utf-8", "surrogatepass")) is None
                else key_of(k)
                for k in keys]

    def memo_pattern(self, label):
        """The SCAN pattern of one memoized function's results (``label``: bytes)."""
        return glob_escape(self._memo_prefix(label)) + b"*"

    def memo_key(self, label, digest):
        """The key of one memoized result (``label``, ``digest``: bytes)."""
        return MemoKey(self._memo_prefix(label) + digest)

    def _memo_prefix(self, label):
        # ':' is escaped too, so one label's pattern never matches another's keys.
        return self.prefix + MEMO_MARK + escape(label).replace(b":", b"%3A") + b":"


_ESCAPE_CODE = re.compile(rb"%([0-9A-F]{2})")


def _unescape(raw):
    if b"%" not in raw:
        return raw
    return _ESCAPE_CODE.sub(lambda match: bytes([int(match.group(1), 16)]), raw)


def _decode_item(raw, pos):
    """(key, next position) of the encoded key starting at ``raw[pos]``; items of a
    tuple end at an unescaped ``,`` or ``)``, which never occur inside an item."""
    if raw.startswith(b"t(", pos):
        items, pos = [], pos + 2
        if raw.startswith(b")", pos):
            return (), pos + 1
        while True:
            item, pos = _decode_item(raw, pos)
            items.append(item)
            if raw.startswith(b")", pos):
                return tuple(items), pos + 1
            if not raw.startswith(b",", pos):
                raise ValueError("not an encoded key")
            pos += 1
    end = pos
    while end < len(raw) and raw[end] not in b",)":
        end += 1
    tag, body = raw[pos:pos + 2], raw[pos + 2:end]
    if tag == b"s:":
        return _unescape(body).decode("utf-8", "surrogatepass"), end
    if tag == b"i:":
        return parse_int(body), end
    if tag == b"b:":
        return _unescape(body), end
    raise ValueError("not an encoded key")


def decode_name(prefix, name):
    """The cache key (in the plain form a near cache stores) of the server key
    ``name``: the inverse of ``Namespace.key`` for entries, a MemoKey for a
    memoized result, None for a helper key or a name it cannot read."""
    if not name.startswith(prefix):
        return None
    raw = name[len(prefix):]
    if raw.startswith(MEMO_MARK):
        return MemoKey(name)
    try:
        key, end = _decode_item(raw, 0)
    except (ValueError, UnicodeDecodeError):
        return None
    return key if end == len(raw) else None


def plain_key(key):
    """``key`` as its plain equivalent: a str/int/bytes subclass as the base type,
    a bool as its int, tuples item by item; TypeError for what is not a key.
    Equal keys give equal plain keys, and ``decode_name`` gives the plain key."""
    kind = type(key)
    if kind is str or kind is int or kind is bytes or kind is MemoKey:
        return key
    if isinstance(key, bool):
        return int(key)
    if isinstance(key, str):
        return str.__str__(key)
    if isinstance(key, int):
        return int.__index__(key)
    if isinstance(key, bytes):
        return bytes(memoryview(key))
    if isinstance(key, tuple):
        return tuple([plain_key(item) for item in tuple.__iter__(key)])
    raise TypeError(
        f"a shared cache key must be str, bytes, int or a tuple of these, not {kind.__name__}")
