"""The monitor twin under test and the pure-Python model, in lockstep on a fake clock.

Each step records, moves the clock (also backwards: wall clocks step), resets
or tries a bad input, on both monitors; after every step every accessor must
agree exactly, totals must match a plain list of everything recorded, and
each percentile must be within 1% of the exact nearest-rank percentile.
"""

import dataclasses
import math

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from mooncake.monitor import twin as model_mod

OPERATIONS = ["get", "put", "delete", "batch_get", "cleanup", "ünïcode"]

# Durations across nine orders of magnitude (1 ns .. 10 s), plus zero and values
# sitting exactly on histogram and Prometheus bucket edges.
durations = st.one_of(
    st.builds(lambda m, e: m * 10.0**e, st.floats(1.0, 9.99), st.integers(-9, 0)),
    st.sampled_from([0.0, 1e-7, 2.5e-7, 5e-3, 0.5, 1.0, 2.0**-20, 2.0**-10 * (1 + 1 / 64)]),
    st.integers(0, 3),
)
sizes = st.one_of(st.integers(0, 4096), st.sampled_from([0, 2**63, 2**64 - 1]))
BAD_CALLS = [
    (5, 0.1, True, 0),
    ("get", -1e-9, True, 0),
    ("get", math.nan, True, 0),
    ("get", math.inf, True, 0),
    ("get", "1", True, 0),
    ("get", 0.1, True, -1),
    ("get", 0.1, True, 2**64),
    ("get", 0.1, True, 1.5),
]


class FakeClock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


def exact_percentile(durations, p):
    """Nearest rank: the value at rank ceil(p * n / 100) of the sorted durations."""
    ordered = sorted(durations)
    rank = max(1, -(-p * len(ordered) // 100))
    return ordered[rank - 1]


def snapshot(m):
    return {
        "metrics": [dataclasses.astuple(x) for x in m.metrics],
        "len": len(m.metrics),
        "tail": [dataclasses.astuple(x) for x in m.metrics[-3:]],
        "stride": [dataclasses.astuple(x) for x in m.metrics[::-2]],
        "stats": dict(m.operation_stats),
        "summary": m.get_performance_summary(),
        "count": m.get_metrics_count(),
        "operations": m.get_supported_operations(),
        "recent": [[dataclasses.astuple(x) for x in m.get_recent_metrics(mins)] for mins in (0, 0.5, 5, math.inf)],
        "per_op": [
            (m.get_operation_count(op), m.get_operation_success_rate(op),
             m.get_average_duration(op), m.get_total_data_size(op))
            for op in OPERATIONS
        ],
        "prometheus": m.to_prometheus(),
    }


class MonitorMachine(RuleBasedStateMachine):
    subject_mod = None  # set per twin by the test below

    @initialize(max_metrics=st.sampled_from([0, 1, 3, 17, 10000]))
    def start(self, max_metrics):
        self.clock = FakeClock()
        self.subject = self.subject_mod.SimpleMonitor(max_metrics, clock=self.clock)
        self.model = model_mod.SimpleMonitor(max_metrics, clock=self.clock)
        self.records = []  # everything recorded since the last reset: (op, duration, success, size)

    @rule(op=st.sampled_from(OPERATIONS), duration=durations, success=st.booleans(), size=sizes)
    def record(self, op, duration, success, size):
        self.subject.record_operation(op, duration, success, size)
        self.model.record_operation(op, duration, success, size)
        self.records.append((op, float(duration), success, size))

    @rule(seconds=st.one_of(st.floats(0, 600), st.floats(-120, 0), st.sampled_from([60.0, 300.0])))
    def advance_clock(self, seconds):
        self.clock.now += seconds

    @rule()
    def reset(self):
        self.subject.reset_metrics()
        self.model.reset_metrics()
        self.records = []

    @rule(args=st.sampled_from(BAD_CALLS))
    def bad_record(self, args):
        before = snapshot(self.subject)
        for m in (self.subject, self.model):
            with pytest.raises((TypeError, ValueError)):
                m.record_operation(*args)
        assert snapshot(self.subject) == before

    @invariant()
    def twins_agree(self):
        assert snapshot(self.subject) == snapshot(self.model)

    @invariant()
    def totals_match_everything_recorded(self):
        stats = self.subject.operation_stats
        assert set(stats) == {r[0] for r in self.records}
        for op in stats:
            mine = [r for r in self.records if r[0] == op]
            total_time = 0.0
            for r in mine:
                total_time += r[1]
            assert stats[op] == {
                "count": len(mine),
                "total_time": total_time,
                "success_count": sum(r[2] for r in mine),
                "total_size": sum(r[3] for r in mine),
            }
        assert self.subject.get_metrics_count() == min(len(self.records), self.subject.max_metrics)

    @invariant()
    def percentiles_within_one_percent(self):
        for op, s in self.subject.get_performance_summary().items():
            values = [r[1] for r in self.records if r[0] == op]
            assert s["min_duration"] == min(values) and s["max_duration"] == max(values)
            for name, p in (("p50", 50), ("p90", 90), ("p99", 99)):
                exact = exact_percentile(values, p)
                assert abs(s[name] - exact) <= exact * 0.01, (name, s[name], exact)


def test_monitor_agrees_with_model(monitor_mod):
    machine = type("Machine", (MonitorMachine,), {"subject_mod": monitor_mod})
    run_state_machine_as_test(machine)
