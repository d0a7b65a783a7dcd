"""Recording one operation: mooncake's monitor, its pure twin, and prometheus_client.

One op is one call recording a duration, made the way users write it:
``m.record_operation(op, d, True)`` for the monitors, ``h.observe(d)`` on an
unlabelled ``Histogram``, and ``h.labels(op).observe(d)`` on a histogram with an
``operation`` label (what per-operation figures cost in prometheus_client).
The durations (1 us to 10 ms, log-uniform) and operation names cycle through
one pre-built list.
"""

import random

from . import harness, keyspace

_OPERATIONS = ("get", "put", "delete", "get_many")


def samples(n):
    """``n`` ``(operation, duration)`` pairs, seeded."""
    rng = random.Random(keyspace.SEED)
    return [(_OPERATIONS[i % len(_OPERATIONS)], 10 ** rng.uniform(-6, -2)) for i in range(n)]


def peers():
    """``[(name, factory, body)]``; the body is a statement over ``c``, ``op`` and ``d``."""
    from mooncake.monitor._engine import SimpleMonitor
    from mooncake.monitor.twin import SimpleMonitor as PureMonitor

    def histogram():
        from prometheus_client import CollectorRegistry, Histogram

        return Histogram("bench_op_seconds", "op latency", registry=CollectorRegistry())

    def labelled():
        from prometheus_client import CollectorRegistry, Histogram

        return Histogram("bench_op_seconds", "op latency", ["operation"],
                         registry=CollectorRegistry())

    return [
        ("prometheus Histogram.observe", histogram, "c.observe(d)"),
        ("prometheus labels(op).observe", labelled, "c.labels(op).observe(d)"),
        ("mooncake pure", PureMonitor, "c.record_operation(op, d, True)"),
        ("mooncake", SimpleMonitor, "c.record_operation(op, d, True)"),
    ]


def record(n, rounds, target, progress=None):
    """Time one recorded operation for every peer; ``{name: harness.Result}``."""
    pairs = samples(n)
    cases = []
    for name, factory, body in peers():
        c = factory()
        loop = harness.compile_loop(body, target="op, d")
        bind = (lambda loop, c: lambda items: lambda loops: loop(c, items, None, loops))(loop, c)
        cases.append(harness.Case(name, bind, pairs))
    return harness.measure(cases, rounds, target, progress)
