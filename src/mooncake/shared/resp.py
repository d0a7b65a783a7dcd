"""Just enough RESP3 for the near cache's listener connections.

A listener sends a handful of commands (HELLO, CLIENT TRACKING, PING) and
then mostly receives ``invalidate`` pushes. redis-py's parsers hide pushes
behind handlers and cannot be polled without blocking, so the listener reads
its socket itself and parses with ``parse``: an incremental parser over a
bytearray that returns None until a whole reply is there.
"""


class Push(list):
    """A RESP3 push (``>``): ``[kind, *data]``, e.g. ``[b"invalidate", [names] or None]``."""

    __slots__ = ()


class ReplyError(Exception):
    """An error reply (``-``) from the server."""


def command(*args):
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode("utf-8")
        elif isinstance(arg, int):
            arg = b"%d" % arg
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


_AGGREGATES = {ord("*"): list, ord(">"): Push, ord("~"): list}


def parse(buf, pos=0):
    """``(reply, next_pos)`` for the reply starting at ``buf[pos]``, or None if
    it is not complete yet. An error reply comes back as a ReplyError instance;
    maps as dicts; a null as None."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return None
    tag = buf[pos]
    line = bytes(buf[pos + 1:end])
    after = end + 2
    if tag in (43, 40):  # '+' simple string, '(' big number
        return line, after
    if tag == 45:  # '-'
        return ReplyError(line.decode("utf-8", "replace")), after
    if tag == 58:  # ':'
        return int(line), after
    if tag == 95:  # '_' null
        return None, after
    if tag == 35:  # '#' boolean
        return line == b"t", after
    if tag == 44:  # ',' double
        return float(line), after
    if tag in (36, 61, 33):  # '$' bulk, '=' verbatim, '!' bulk error
        size = int(line)
        if size < 0:
            return None, after
        if len(buf) < after + size + 2:
            return None
        data = bytes(buf[after:after + size])
        if tag == 33:
            return ReplyError(data.decode("utf-8", "replace")), after + size + 2
        return data, after + size + 2
    if tag in _AGGREGATES or tag in (37, 124):  # '%' map, '|' attribute
        count = int(line)
        if count < 0:
            return None, after
        if tag in (37, 124):
            count *= 2
        items = []
        pos = after
        for _ in range(count):
            parsed = parse(buf, pos)
            if parsed is None:
                return None
            item, pos = parsed
            items.append(item)
        if tag == 124:  # an attribute precedes the reply it describes: skip it
            return parse(buf, pos)
        if tag == 37:
            return dict(zip(items[::2], items[1::2])), pos
        return _AGGREGATES[tag](items), pos
    raise ValueError(f"not a RESP3 reply: tag {chr(tag)!r}")
